package io.stowage.runtime;

import io.stowage.StowageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * The service's management server (health and metrics), as far as Stowage must know it: whether it listens, and on
 * which port.
 *
 * <p>Camel's Vert.x server reports a port it cannot bind only as a log line and carries on, so a service would run
 * with no health or metrics of its own while scrapes of that port reach whoever holds it: another Stowage (stale
 * numbers), or a process that never answers. Starting the service therefore checks that the server listens.
 */
public final class ManagementServer {
    /** Camel's defaults for camel.management.host and camel.management.port. */
    private static final String DEFAULT_HOST = "0.0.0.0";
    private static final int DEFAULT_PORT = 9876;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ManagementServer.class);

    private ManagementServer() {
    }

    /** The port the management server listens on; 0 when it is disabled or not listening. */
    public static int port(CamelContext context) {
        ManagementHttpServer server = context.hasService(ManagementHttpServer.class);
        if (server == null || server.getRouter() == null) {
            return 0;
        }
        VertxPlatformHttpRouter router = server.getRouter();
        if (router.getServer() == null || router.getServer().getServer() == null) {
            return 0;
        }
        io.vertx.core.http.HttpServer http = router.getServer().getServer();
        // actualPort() answers the requested port even when the bind failed: only the server knows it listens.
        if (http instanceof io.vertx.core.net.impl.TCPServerBase tcp && !tcp.isListening()) {
            return 0;
        }
        return Math.max(0, http.actualPort());
    }

    /**
     * Before Camel starts: the configured management address must be free (the same socket option as the server's,
     * SO_REUSEADDR, so only a listener in the way fails the probe). A second service must not fire a schedule or ship
     * WAL before it finds out; {@link #requireListening} still checks the bind itself, which a race could lose.
     */
    static void checkFree(PropertiesComponent properties) {
        boolean enabled = property(properties, "camel.management.enabled").map(Boolean::parseBoolean).orElse(false);
        if (!enabled) {
            return;
        }
        String host = property(properties, "camel.management.host").orElse(DEFAULT_HOST);
        String portText = property(properties, "camel.management.port").orElse(Integer.toString(DEFAULT_PORT));
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw StowageException.usage("camel.management.port '" + portText + "' is not a port number");
        }
        if (port == 0) {
            return; // any free port: nothing can be in the way
        }
        String why = why(host, port);
        if (why != null) {
            throw cannotListen(host, port, why);
        }
    }

    /** Fails the start when the management server is enabled but does not listen. */
    static void requireListening(CamelContext context) {
        ManagementHttpServer server = context.hasService(ManagementHttpServer.class);
        if (server == null) {
            return;
        }
        int port = port(context);
        if (port > 0) {
            LOG.info("health and metrics on http://{}:{}/observe/", server.getHost(), port);
            return;
        }
        String host = server.getHost() == null ? DEFAULT_HOST : server.getHost();
        String why = why(host, server.getPort());
        throw cannotListen(host, server.getPort(), why == null ? "the server did not bind it" : why);
    }

    private static StowageException cannotListen(String host, int port, String why) {
        return StowageException.usage("cannot listen on " + host + ":" + port + " for health and metrics: " + why
                + "; HINT: stop what holds the port (another 'stowage run'?), or set STOWAGE_MANAGEMENT_PORT "
                + "(camel.management.port) to a free one");
    }

    /** Why the address cannot be bound, as the operating system says it; null when it can. */
    private static String why(String host, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static java.util.Optional<String> property(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
    }
}
