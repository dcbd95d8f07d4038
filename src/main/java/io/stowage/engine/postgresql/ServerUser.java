package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL refuses to run as root. When Stowage runs as root, a server it starts on a restored data directory (a
 * scratch server, or {@code restore --start}) runs as the {@value #NAME} OS user: the directory is handed to that
 * user, and server tools run through {@code runuser}. Otherwise everything runs as Stowage's own user.
 */
final class ServerUser {
    static final String NAME = "postgres";
    static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    /** Paths that pg_ctl puts into the shell command it starts the server with: nothing a shell would read. */
    private static final java.util.regex.Pattern SHELL_SAFE_PATH = java.util.regex.Pattern.compile("[A-Za-z0-9/._+-]+");

    private ServerUser() {
    }

    /** Whether pg_ctl may be given {@code path}: it starts the server through a shell, the path inside quotes. */
    static boolean shellSafe(Path path) {
        return SHELL_SAFE_PATH.matcher(path.toAbsolutePath().normalize().toString()).matches();
    }

    /** As root: gives {@code directory} and everything in it to the server's user. */
    static void handOver(Path directory) throws IOException {
        if (!ROOT) {
            return;
        }
        UserPrincipal server;
        try {
            server = directory.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(NAME);
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new StowageException("Stowage runs as root, and there is no '" + NAME + "' user to run PostgreSQL as;"
                    + " HINT: run the restore as the server's user");
        }
        try (var paths = Files.walk(directory)) {
            for (Path p : paths.toList()) {
                Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setOwner(server);
            }
        }
        try {
            run(List.of("test", "-w", directory.toString()));
        } catch (StowageException e) {
            throw new StowageException("the '" + NAME + "' user cannot reach " + directory + " (a directory above it is "
                    + "closed to others); HINT: restore into a directory that user can reach");
        }
    }

    /** Runs a server-side tool (pg_ctl), as the server's user when Stowage is root; fails with its last error. */
    static void run(List<String> command) {
        List<String> full = new ArrayList<>();
        if (ROOT) {
            full.addAll(List.of("runuser", "-u", NAME, "--"));
        }
        full.addAll(command);
        try (ExternalProcess process = ExternalProcess.start(full, Map.of(), false); InputStream out = process.stdout()) {
            out.transferTo(OutputStream.nullOutputStream());
            process.awaitSuccess();
        } catch (IOException e) {
            throw new StowageException(command.get(0) + " failed: " + e.getMessage(), e);
        }
    }
}
