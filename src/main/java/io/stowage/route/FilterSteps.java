package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.services.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;

/** Steps that add a filter to the backup stream; the bytes flow only when the store step runs. */
final class FilterSteps {
    private FilterSteps() {
    }

    static BackupStream stream(Exchange exchange, String step) {
        BackupStream stream = exchange.getIn().getBody(BackupStream.class);
        if (stream == null) {
            throw StowageException.usage("stowage:" + step + " needs a backup stream: put a source step such as "
                    + "stowage:pg-dump before it");
        }
        return stream;
    }

    /** {@code stowage:compress?codec=zstd&level=1&workers=2}. */
    static final class Compress implements Step {
        private final Codec codec;
        private final int level;
        private final int workers;

        Compress(Map<String, String> parameters) {
            codec = Codec.of(parameters.getOrDefault("codec", "zstd"));
            level = codec.level(parameters.remove("level"));
            parameters.remove("codec");
            workers = Steps.integer(parameters.remove("workers"), "workers", 0, 64, 0);
            Steps.noParameters(parameters, "compress");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            stream(exchange, "compress").compress(codec, level, workers);
        }
    }

    /**
     * {@code stowage:encrypt}: age encryption to the configured recipients (AGE_RECIPIENTS) or with the configured
     * passphrase (AGE_PASSPHRASE_FILE), after compression; nothing when neither is configured, so the shipped routes
     * carry the step either way.
     */
    static final class Encrypt implements Step {
        Encrypt(Map<String, String> parameters) {
            Steps.noParameters(parameters, "encrypt");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            io.stowage.crypto.AgeKeys keys = services.encryption();
            if (keys.encrypts()) {
                stream(exchange, "encrypt").encrypt(keys);
            }
        }
    }

    /** {@code stowage:checksum?algorithm=sha256}: the SHA-256 of the stored bytes, for the manifest. */
    static final class Checksum implements Step {
        Checksum(Map<String, String> parameters) {
            String algorithm = parameters.getOrDefault("algorithm", "sha256");
            if (!algorithm.equalsIgnoreCase("sha256")) {
                throw StowageException.usage("stowage:checksum supports algorithm=sha256 only, not '" + algorithm + "'");
            }
            parameters.remove("algorithm");
            Steps.noParameters(parameters, "checksum");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            stream(exchange, "checksum").checksum();
        }
    }
}
