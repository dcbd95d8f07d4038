package io.stowage.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A directory whose entries cannot be deleted until closed: as root, whom permissions do not stop, with the immutable
 * attribute (chattr +i); otherwise by taking away its write permission. For a repository whose deletes fail.
 */
public final class Undeletable implements AutoCloseable {
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
    private final Path directory;
    private boolean open = true;

    private Undeletable(Path directory) {
        this.directory = directory;
    }

    public static Undeletable of(Path directory) throws Exception {
        set(directory, false);
        return new Undeletable(directory);
    }

    private static void set(Path directory, boolean deletable) throws Exception {
        if (ROOT) {
            Process chattr = new ProcessBuilder("chattr", deletable ? "-i" : "+i", directory.toString())
                    .redirectErrorStream(true).start();
            String output = new String(chattr.getInputStream().readAllBytes());
            if (chattr.waitFor() != 0) {
                throw new IllegalStateException("chattr failed: " + output);
            }
        } else {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString(deletable ? "rwx------"
                    : "r-x------"));
        }
    }

    /** Deletable again. */
    @Override
    public void close() throws Exception {
        if (open) {
            open = false;
            set(directory, true);
        }
    }
}
