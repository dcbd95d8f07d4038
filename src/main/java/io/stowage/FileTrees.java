package io.stowage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Deleting a directory tree without ever following a symbolic link: a link is removed itself, never what it points
 * to. Scratch and download directories may hold files a server's user or a backup put there; deleting through a link
 * planted among them would delete files anywhere Stowage may write.
 *
 * <p>The tree is walked through open directories ({@link SecureDirectoryStream}: each entry is looked at, opened and
 * deleted relative to its open parent, as {@code openat} and {@code unlinkat} do), so that a directory swapped for a
 * link while the walk runs (by the server's user, who owns a scratch server's files) is still never followed. Where
 * the platform has no such streams, a walk by path that follows no link is the fallback.
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
        DirectoryStream<Path> top;
        try {
            top = Files.newDirectoryStream(path);
        } catch (java.nio.file.NotDirectoryException swapped) {
            Files.deleteIfExists(path);
            return;
        }
        try (DirectoryStream<Path> stream = top) {
            if (stream instanceof SecureDirectoryStream<Path> secure) {
                empty(secure);
            } else {
                walkByPath(path);
                return;
            }
        }
        Files.deleteIfExists(path);
    }

    /** Deletes everything in {@code directory}, relative to the open directory, following no link. */
    private static void empty(SecureDirectoryStream<Path> directory) throws IOException {
        for (Path entry : directory) {
            Path name = entry.getFileName();
            BasicFileAttributes attributes;
            try {
                attributes = directory.getFileAttributeView(name, BasicFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS).readAttributes();
            } catch (NoSuchFileException gone) {
                continue;
            }
            if (attributes.isDirectory()) {
                // Opened without following a link: a directory swapped for a link since is refused here, not entered.
                SecureDirectoryStream<Path> opened;
                try {
                    opened = directory.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue;
                } catch (java.nio.file.FileSystemException swapped) {
                    directory.deleteFile(name); // now a link or a file: removed itself
                    continue;
                }
                try (SecureDirectoryStream<Path> child = opened) {
                    empty(child);
                }
                try {
                    directory.deleteDirectory(name);
                } catch (NoSuchFileException gone) {
                    // removed meanwhile
                }
            } else {
                try {
                    directory.deleteFile(name);
                } catch (NoSuchFileException gone) {
                    // removed meanwhile
                }
            }
        }
    }

    private static void walkByPath(Path path) throws IOException {
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
