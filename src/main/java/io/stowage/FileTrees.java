package io.stowage;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Deleting a directory tree without ever following a symbolic link: a link is removed itself, never what it points
 * to. Scratch and download directories may hold files a server's user or a backup put there; deleting through a link
 * planted among them would delete files anywhere Stowage may write.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code path} and, when it is a real directory, everything in it; a link is removed, not followed. */
    public static void delete(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(path);
            return;
        }
        // walkFileTree follows no link: a link inside is visited as a file, and deleted as one.
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** As {@link #delete(Path)}, ignoring what cannot be deleted; returns whether {@code path} is gone. */
    public static boolean deleteQuietly(Path path) {
        try {
            delete(path);
        } catch (IOException | RuntimeException ignored) {
            // what remains is reported by the caller, if it matters
        }
        return !Files.exists(path, LinkOption.NOFOLLOW_LINKS);
    }
}
