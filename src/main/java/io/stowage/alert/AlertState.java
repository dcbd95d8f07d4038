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
 */
public final class AlertState {
    private static final Logger LOG = LoggerFactory.getLogger(AlertState.class);

    private final Path file;
    private final Set<String> open = new TreeSet<>();

    public AlertState(Path file) {
        this.file = file;
        if (Files.isRegularFile(file)) {
            try {
                open.addAll(ManifestCodec.JSON.readValue(file.toFile(), new TypeReference<Set<String>>() { }));
            } catch (IOException e) {
                LOG.warn("cannot read alert state {}: {}; starting with no open alerts", file, Failures.reason(e));
            }
        }
    }

    public synchronized boolean isOpen(String key) {
        return open.contains(key);
    }

    /** Marks {@code key} open or closed; returns whether that changed anything. */
    public synchronized boolean set(String key, boolean isOpen) {
        boolean changed = isOpen ? open.add(key) : open.remove(key);
        if (changed) {
            save();
        }
        return changed;
    }

    private void save() {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, ManifestCodec.JSON.writeValueAsBytes(open));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("cannot save alert state {}: {}", file, Failures.describe(e));
        }
    }
}
