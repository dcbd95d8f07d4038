package io.stowage.runtime;

import io.stowage.StowageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Locale;
import org.apache.camel.spi.PropertiesComponent;

/**
 * Checks, before Camel starts, that the management server can listen where it is configured. Camel's Vert.x server
 * reports a failed bind only as a logged stack trace from another thread and lets the service run without health and
 * metrics; a service nobody can scrape must not look started.
 */
final class ManagementPort {
    /** Camel's defaults for camel.management.host and camel.management.port. */
    private static final String DEFAULT_HOST = "0.0.0.0";
    private static final int DEFAULT_PORT = 9876;

    private ManagementPort() {
    }

    static void check(PropertiesComponent properties) {
        boolean enabled = property(properties, "camel.management.enabled")
                .map(Boolean::parseBoolean).orElse(false);
        if (!enabled) {
            return;
        }
        String host = property(properties, "camel.management.host")
                .orElse(DEFAULT_HOST);
        String portText = property(properties, "camel.management.port")
                .orElse(Integer.toString(DEFAULT_PORT));
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw StowageException.usage("camel.management.port '" + portText + "' is not a port number");
        }
        if (port == 0) {
            return; // any free port: nothing can be in the way
        }
        // The same socket option as the server's (SO_REUSEADDR), so only a listener in the way fails the probe.
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException | IllegalArgumentException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw StowageException.usage("the management server cannot listen on " + host + ":" + port + ": "
                    + reason.toLowerCase(Locale.ROOT) + "; HINT: stop what uses that port, or set camel.management.port "
                    + "(and camel.management.host) to a free address", e);
        }
    }

    private static java.util.Optional<String> property(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
    }
}
