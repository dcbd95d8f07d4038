package io.stowage.catalog;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.stowage.repository.ObjectNotFoundException;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;

/**
 * A backup's pin: {@code <job>/<id>/pinned.json} beside its manifest, written into every repository holding the backup
 * by {@code stowage pin} and removed by {@code stowage unpin}; the manifest itself is never rewritten. A backup is
 * pinned while any repository holds its pin file, and expiry never removes a pinned backup (nor what it depends on).
 * The format is documented in docs/repository-format.md.
 */
public final class Pins {
    public static final String FILE_NAME = "pinned.json";
    public static final int FORMAT_VERSION = 1;

    private Pins() {
    }

    /** What a pin file holds. */
    @JsonPropertyOrder({"formatVersion", "job", "id", "pinned", "reason", "by"})
    public record Pin(int formatVersion, String job, String id, Instant pinned, String reason, String by) {
    }

    public static String key(String job, String id) {
        return Catalog.objectKey(job, id, FILE_NAME);
    }

    /** Writes the pin file of {@code pin}'s backup into {@code repository}. */
    public static void write(Repository repository, Pin pin) throws IOException {
        byte[] bytes = ManifestCodec.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(pin);
        repository.write(key(pin.job(), pin.id()), out -> out.write(bytes));
    }

    /** The pin file of a backup in {@code repository}, or null when it has none (or it cannot be read as one). */
    public static Pin read(Repository repository, String job, String id) throws IOException {
        try (InputStream in = repository.open(key(job, id))) {
            return ManifestCodec.JSON.readValue(in.readNBytes(64 * 1024), Pin.class);
        } catch (ObjectNotFoundException e) {
            return null;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return new Pin(FORMAT_VERSION, job, id, null, "(pin file not readable: " + e.getOriginalMessage() + ")",
                    null);
        }
    }
}
