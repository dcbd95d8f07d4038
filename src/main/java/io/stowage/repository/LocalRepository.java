package io.stowage.repository;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A repository in a local directory. Objects are files under the root; a write goes to a hidden temporary file in
 * the same directory ({@code .NAME.tmp-RANDOM}), is fsynced, renamed over the final name, and the directory is
 * fsynced, so a crash leaves either the old state or the new one. Directories are created 0700 and files 0600:
 * a backup is the whole database.
 */
public final class LocalRepository implements Repository {
    private static final String TMP_MARK = ".tmp-";

    private final String name;
    private final Path root;

    public LocalRepository(String name, Path root) {
        this.name = name;
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String location() {
        return root.toString();
    }

    public Path root() {
        return root;
    }

    /** The file that holds {@code key}; for steps that hand a stored file to another component. */
    public Path file(String key) {
        return root.resolve(Keys.check(key));
    }

    @Override
    public java.util.Optional<Path> localFile(String key) {
        Path file = file(key);
        // As open() reads it: whatever is there but a directory (a named pipe too).
        return Files.exists(file) && !Files.isDirectory(file) ? java.util.Optional.of(file) : java.util.Optional.empty();
    }

    @Override
    public long write(String key, ObjectWriter writer) throws IOException {
        Path target = file(key);
        Path dir = target.getParent();
        try {
            createDirectories(dir);
        } catch (RepositoryException e) {
            throw new RepositoryException("cannot write '" + key + "' in repository '" + name + "': " + e.getMessage(), e);
        }
        Path tmp = dir.resolve("." + target.getFileName() + TMP_MARK + UUID.randomUUID());
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(
                         java.nio.channels.Channels.newOutputStream(channel), 1 << 20) {
                     @Override
                     public void close() throws IOException {
                         // Flush, then make the bytes durable before the rename publishes them.
                         flush();
                         channel.force(true);
                     }
                 }) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                writer.writeTo(out);
            }
            long size = Files.size(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
            return size;
        } catch (AccessDeniedException e) {
            throw new RepositoryException("cannot write '" + key + "' in repository '" + name + "': permission denied on "
                    + e.getFile() + "; HINT: make " + root + " writable by this user", e);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            deleteEmptyParents(dir);
            if (e instanceof java.nio.file.FileSystemException fse) {
                throw new RepositoryException("cannot write '" + key + "' in repository '" + name + "': "
                        + describe(fse), e);
            }
            throw e;
        }
    }

    private static String describe(java.nio.file.FileSystemException e) {
        String reason = e.getReason() == null ? e.getClass().getSimpleName() : e.getReason();
        return reason.toLowerCase(java.util.Locale.ROOT) + (e.getFile() == null ? "" : " (" + e.getFile() + ")");
    }

    @Override
    public void upload(String key, Path file) throws IOException {
        write(key, out -> Files.copy(file, out));
    }

    @Override
    public InputStream open(String key) throws IOException {
        Path file = file(key);
        if (Files.isDirectory(file)) {
            throw new ObjectNotFoundException(name, key);
        }
        try {
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(name, key);
        } catch (java.nio.file.FileSystemException e) {
            throw new RepositoryException("cannot read '" + key + "' in repository '" + name + "': " + describe(e), e);
        }
    }

    @Override
    public boolean exists(String key) {
        return Files.isRegularFile(file(key));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Keys.checkPrefix(prefix);
        // Walk from the deepest directory the prefix names completely, then filter by the full prefix.
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(start)) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        try {
            // A file or directory that vanishes while the tree is walked (a temporary renamed into place by a write
            // running beside the listing, a directory removed by a delete) is simply not listed.
            Files.walkFileTree(start, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path path,
                        java.nio.file.attribute.BasicFileAttributes attributes) {
                    if (attributes.isRegularFile()) {
                        String key = root.relativize(path).toString().replace('\\', '/');
                        if (key.startsWith(prefix) && isKey(key)) {
                            keys.add(key);
                        }
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path path, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw failure("list", prefix.isEmpty() ? "/" : prefix, e);
        }
        keys.sort(null);
        return keys;
    }

    @Override
    public List<String> children(String directory) throws IOException {
        Keys.checkPrefix(directory);
        if (!directory.isEmpty() && !directory.endsWith("/")) {
            throw new IllegalArgumentException("'" + directory + "' is not a directory prefix (it must end in '/')");
        }
        Path start = directory.isEmpty() ? root : root.resolve(directory.substring(0, directory.length() - 1));
        if (!Files.isDirectory(start)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> entries = Files.list(start)) {
            entries.forEach(path -> {
                String name = path.getFileName().toString();
                if (name.startsWith(".")) {
                    return;
                }
                if (Files.isDirectory(path)) {
                    names.add(name + "/");
                } else if (Files.isRegularFile(path)) {
                    names.add(name);
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw failure("list", directory.isEmpty() ? "/" : directory, e);
        }
        names.sort(null);
        return names;
    }

    @Override
    public void delete(String key) throws IOException {
        Path file = file(key);
        try {
            Files.deleteIfExists(file);
            deleteEmptyParents(file.getParent());
        } catch (IOException e) {
            throw failure("delete", key, e);
        }
    }

    /**
     * A file-system failure as the one exception type of the contract. A local disk's failures are not transient:
     * a full disk, a permission or a read-only mount stays so until someone acts.
     */
    private RepositoryException failure(String operation, String key, Exception e) {
        if (e instanceof RepositoryException re) {
            return re;
        }
        Throwable cause = e instanceof java.io.UncheckedIOException u ? u.getCause() : e;
        String reason = cause instanceof java.nio.file.FileSystemException fse ? describe(fse)
                : String.valueOf(cause.getMessage());
        return new RepositoryException("cannot " + operation + " '" + key + "' in repository '" + name + "' ("
                + root + "): " + reason, cause, false);
    }

    /** Drops directories a delete emptied, up to (not including) the root. */
    private void deleteEmptyParents(Path start) throws IOException {
        Path dir = start;
        while (dir != null && !dir.equals(root) && dir.startsWith(root)) {
            try {
                Files.delete(dir);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                break;
            }
            dir = dir.getParent();
        }
    }

    @Override
    public void cleanUpInterruptedWrites(String prefix) throws IOException {
        try {
            removeInterruptedWrites(prefix);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw failure("clean up", prefix.isEmpty() ? "/" : prefix, e);
        }
    }

    private void removeInterruptedWrites(String prefix) throws IOException {
        Path start = prefix.isEmpty() ? root : root.resolve(Keys.checkPrefix(prefix));
        if (!Files.isDirectory(start)) {
            return;
        }
        List<Path> leftovers;
        try (Stream<Path> files = Files.walk(start)) {
            leftovers = files.filter(path -> {
                String fileName = path.getFileName().toString();
                return fileName.startsWith(".") && fileName.contains(TMP_MARK) && Files.isRegularFile(path);
            }).toList();
        }
        for (Path path : leftovers) {
            Files.deleteIfExists(path);
            deleteEmptyParents(path.getParent());
        }
        // A write killed between creating its directory and its temporary file leaves an empty directory.
        List<Path> directories;
        try (Stream<Path> paths = Files.walk(start)) {
            directories = paths.filter(Files::isDirectory).filter(d -> !d.equals(start))
                    .sorted(java.util.Comparator.reverseOrder()).toList();
        }
        for (Path directory : directories) {
            try (Stream<Path> entries = Files.list(directory)) {
                if (entries.findAny().isEmpty()) {
                    Files.deleteIfExists(directory);
                }
            }
        }
    }

    @Override
    public void check() throws IOException {
        try {
            createDirectories(root);
        } catch (RepositoryException e) {
            throw new RepositoryException("repository '" + name + "' at " + root + " is not usable: " + e.getMessage(), e);
        }
        // Probe with a real write: permission bits alone say nothing for root or on a read-only mount.
        Path probe = root.resolve(".check" + TMP_MARK + UUID.randomUUID());
        try {
            Files.newOutputStream(probe, StandardOpenOption.CREATE_NEW).close();
        } catch (IOException e) {
            throw new RepositoryException("repository directory " + root + " is not writable: " + e.getClass()
                    .getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT)
                    + "; HINT: fix its owner or permissions, or point STOWAGE_REPOSITORY elsewhere", e);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw new RepositoryException("cannot create directory " + dir + ": a file of that name is in the way", e);
            }
            // else created by a concurrent writer: fine
        } catch (AccessDeniedException e) {
            throw new RepositoryException("cannot create directory " + dir + ": permission denied; HINT: make " + root
                    + " writable by this user", e);
        } catch (java.nio.file.FileSystemException e) {
            throw new RepositoryException("cannot create directory " + dir + ": " + describe(e), e);
        }
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot fsync a directory; the rename itself is still atomic.
        }
    }

    private static boolean isKey(String key) {
        for (String segment : key.split("/")) {
            if (segment.startsWith(".")) {
                return false;
            }
        }
        return true;
    }
}
