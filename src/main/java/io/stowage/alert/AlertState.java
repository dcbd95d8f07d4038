package io.stowage.alert;

import com.fasterxml.jackson.core.type.TypeReference;
import io.stowage.Failures;
import io.stowage.catalog.ManifestCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which alerts are open (triggered and not yet resolved), kept in {@code <local repository>/.alerts.json} so that
 * a success after a restart still resolves the incident a failure before it opened, and a success that follows
 * other successes sends nothing.
 *
 * <p>The file is read at every question, never remembered: the service and the commands run beside it share it, and
 * a service answering from what it read at its start would never resolve the incident a command's failure opened.
 */
public final class AlertState {
    private static final Logger LOG = LoggerFactory.getLogger(AlertState.class);

    private final Path file;

    public AlertState(Path file) {
        this.file = file;
    }

    public synchronized boolean isOpen(String key) {
        return read().contains(key);
    }

    /** Marks {@code key} open or closed; returns whether that changed anything (closing: whether it was open). */
    public synchronized boolean set(String key, boolean isOpen) {
        Set<String> open = read();
        boolean changed = isOpen ? open.add(key) : open.remove(key);
        if (changed) {
            save(open);
        }
        return changed;
    }

    private Set<String> read() {
        Set<String> open = new TreeSet<>();
        if (Files.isRegularFile(file)) {
            try {
                open.addAll(ManifestCodec.JSON.readValue(file.toFile(), new TypeReference<Set<String>>() { }));
            } catch (IOException e) {
                LOG.warn("cannot read alert state {}: {}; taking no alert as open", file, Failures.reason(e));
            }
        }
        return open;
    }

    private void save(Set<String> open) {
        // A name of this writer's own: two processes saving at once must not write into one temporary file.
        Path tmp = file.resolveSibling(file.getFileName() + "." + java.util.UUID.randomUUID() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.write(Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), ManifestCodec.JSON.writeValueAsBytes(open));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("cannot save alert state {}: {}", file, Failures.describe(e));
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // left beside the state; it is never read
            }
        }
    }
}
