package io.stowage.engine.postgresql;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A base backup's tar stream laid out as a PostgreSQL data directory, each entry checked before anything is written
 * for it, so that a crafted or damaged archive cannot write outside the directory:
 * <ul>
 *   <li>names are relative, with no {@code ..}; every directory on the way is a real directory, never a symbolic
 *       link (nothing is written through a link, not even one that stays inside);</li>
 *   <li>a symbolic link must stay below its own directory (relative, no {@code ..}). pg_basebackup writes links
 *       only for tablespaces ({@code pg_tblspc/<oid>}, absolute), and cannot stream a cluster with tablespaces to
 *       one tar at all, so no backup Stowage takes has one; a link that leaves the directory is refused;</li>
 *   <li>only directories, regular files and such links: hard links, devices and pipes are refused;</li>
 *   <li>nothing is replaced: a name that is already there (twice in the archive) is refused.</li>
 * </ul>
 * Directories are created 0700 and files 0600. The top-level {@code PG_VERSION} is held back, not written: the
 * restore writes it last ({@link IncompleteRestore}), so PostgreSQL refuses to start on a directory laid out only in
 * part. {@link #requireDataDirectory} then checks that what was laid out is a base backup of the server recorded.
 */
final class BaseBackupTar {
    static final String PG_VERSION = "PG_VERSION";
    private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path dir;
    private final String backup;
    /** Directories checked (or made) to be real directories: no link on the way. */
    private final Set<Path> directories = new HashSet<>();
    private String pgVersion;

    private BaseBackupTar(Path dir, String backup) {
        this.dir = dir;
        this.backup = backup;
    }

    /**
     * Lays out {@code tar} in {@code dir} (an existing, owner-only directory) and returns the content of its
     * top-level PG_VERSION, which is not written, or null when it has none.
     */
    static String extract(InputStream tar, Path dir, String backup) throws IOException {
        BaseBackupTar layout = new BaseBackupTar(dir, backup);
        try (TarArchiveInputStream in = new TarArchiveInputStream(tar)) {
            TarArchiveEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                Interruption.check();
                layout.place(entry, in);
            }
        }
        return layout.pgVersion;
    }

    private void place(TarArchiveEntry entry, InputStream content) throws IOException {
        String name = entry.getName();
        Path target = resolve(name);
        if (target.equals(dir) && !entry.isDirectory()) {
            throw refused(name, "names the data directory itself");
        }
        if (entry.isDirectory()) {
            directory(target, name);
        } else if (entry.isSymbolicLink()) {
            symbolicLink(target, name, entry.getLinkName());
        } else if (regular(entry)) {
            directory(target.getParent(), name);
            if (target.equals(dir.resolve(PG_VERSION))) {
                pgVersion = readSmall(content, name);
            } else {
                write(target, name, content);
            }
        } else {
            throw refused(name, "is " + kind(entry) + ", which a PostgreSQL data directory does not hold");
        }
    }

    /** The entry's place in the directory, refusing any name that is not plainly inside it. */
    private Path resolve(String name) {
        Path relative;
        try {
            relative = Path.of(name);
        } catch (InvalidPathException e) {
            throw refused(name, "has a name no file can have");
        }
        if (name.isEmpty() || relative.isAbsolute()) {
            throw refused(name, "has an absolute name");
        }
        for (Path part : relative) {
            if (part.toString().equals("..")) {
                throw refused(name, "climbs out with '..'");
            }
        }
        Path target = dir.resolve(relative).normalize();
        if (!target.startsWith(dir)) {
            throw refused(name, "points outside the data directory");
        }
        return target;
    }

    /** Makes sure {@code path} is a real directory inside the data directory, creating it (and its parents). */
    private void directory(Path path, String name) throws IOException {
        if (path.equals(dir) || directories.contains(path)) {
            return;
        }
        if (!path.startsWith(dir)) {
            throw new IllegalStateException(path + " is outside " + dir);
        }
        directory(path.getParent(), name);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException absent) {
            Files.createDirectory(path, DIRECTORY);
            directories.add(path);
            return;
        }
        if (attributes.isSymbolicLink()) {
            throw refused(name, "goes through the symbolic link '" + dir.relativize(path) + "'");
        }
        if (!attributes.isDirectory()) {
            throw refused(name, "needs '" + dir.relativize(path) + "' to be a directory, and it is a file");
        }
        directories.add(path);
    }

    private void symbolicLink(Path target, String name, String linkName) throws IOException {
        Path link;
        try {
            link = Path.of(linkName);
        } catch (InvalidPathException e) {
            throw refused(name, "is a symbolic link to a name no file can have");
        }
        boolean climbs = false;
        for (Path part : link) {
            climbs |= part.toString().equals("..");
        }
        if (linkName.isEmpty() || link.isAbsolute() || climbs) {
            throw refused(name, "is a symbolic link to '" + linkName + "', which leaves the data directory (Stowage "
                    + "restores no link out of it; tablespaces are not supported)");
        }
        directory(target.getParent(), name);
        try {
            Files.createSymbolicLink(target, link);
        } catch (FileAlreadyExistsException e) {
            throw refused(name, "names a file that is already there");
        }
    }

    private void write(Path target, String name, InputStream content) throws IOException {
        try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(target,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), FILE))) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = content.read(buffer)) != -1) {
                out.write(buffer, 0, n);
            }
        } catch (FileAlreadyExistsException e) {
            throw refused(name, "names a file that is already there");
        }
    }

    private String readSmall(InputStream content, String name) throws IOException {
        if (pgVersion != null) {
            throw refused(name, "names a file that is already there");
        }
        byte[] bytes = content.readNBytes(33);
        if (bytes.length > 32) {
            throw refused(name, "is too long for a PostgreSQL version file");
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static boolean regular(TarArchiveEntry entry) {
        byte flag = entry.getLinkFlag();
        return flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM || flag == TarConstants.LF_CONTIG;
    }

    private static String kind(TarArchiveEntry entry) {
        if (entry.isLink()) {
            return "a hard link to '" + entry.getLinkName() + "'";
        }
        if (entry.isCharacterDevice() || entry.isBlockDevice()) {
            return "a device";
        }
        if (entry.isFIFO()) {
            return "a named pipe";
        }
        return "an entry of tar type '" + (char) entry.getLinkFlag() + "'";
    }

    private StowageException refused(String name, String why) {
        return new StowageException("base backup entry '" + name + "' of " + backup + " " + why + ": refused before "
                + "writing it");
    }

    /**
     * Fails unless {@code dir} now holds a base backup of a PostgreSQL data directory of the server the backup was
     * taken from: a PG_VERSION (held back, {@code pgVersion}) of that major version, global/pg_control, base/ and
     * the backup_label that tells recovery where to start (without it, recovery would start from the checkpoint in
     * pg_control, which is wrong for a copy taken while the server ran).
     */
    static void requireDataDirectory(Path dir, String pgVersion, Manifest manifest) {
        String backup = "backup " + manifest.id() + " of job " + manifest.job();
        String missing = pgVersion == null ? PG_VERSION
                : !Files.isRegularFile(dir.resolve("global/pg_control"), LinkOption.NOFOLLOW_LINKS) ? "global/pg_control"
                : !Files.isDirectory(dir.resolve("base"), LinkOption.NOFOLLOW_LINKS) ? "base/"
                : !Files.isRegularFile(dir.resolve("backup_label"), LinkOption.NOFOLLOW_LINKS) ? "backup_label" : null;
        if (missing != null) {
            throw new StowageException(backup + " is not a PostgreSQL data directory taken by pg_basebackup: it has no "
                    + missing);
        }
        String version = pgVersion.strip();
        if (!version.matches("\\d+(\\.\\d+)?")) {
            throw new StowageException(backup + " is not a PostgreSQL data directory: its PG_VERSION says '"
                    + version.replaceAll("[^\\x20-\\x7e]", "?") + "'");
        }
        String server = manifest.server() == null ? null : manifest.server().version();
        if (server != null && !version.equals(major(server))) {
            throw new StowageException(backup + " holds a data directory of PostgreSQL " + version + ", but it was taken"
                    + " from PostgreSQL " + server + " (its manifest): refused");
        }
    }

    /** The major version a data directory of {@code serverVersion} has in PG_VERSION: 15 for 15.10, 9.6 for 9.6.24. */
    static String major(String serverVersion) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)(?:\\.(\\d+))?").matcher(serverVersion.strip());
        if (!m.find()) {
            return serverVersion.strip();
        }
        int first = Integer.parseInt(m.group(1));
        return first >= 10 || m.group(2) == null ? m.group(1) : m.group(1) + "." + m.group(2);
    }
}
