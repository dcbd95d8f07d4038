package io.stowage.runtime;

import io.stowage.StowageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.apache.camel.CamelContext;
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
        String host = server.getHost() == null ? "0.0.0.0" : server.getHost();
        throw StowageException.usage("cannot listen on " + host + ":" + server.getPort()
                + " for health and metrics" + why(host, server.getPort()) + "; HINT: stop what holds the port (another"
                + " 'stowage run'?) or choose another with camel.management.port");
    }

    /** Why the port could not be bound, as the operating system says it (the Vert.x failure is not kept). */
    private static String why(String host, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(host, port));
            return "";
        } catch (IOException | RuntimeException e) {
            return e.getMessage() == null ? "" : ": " + e.getMessage().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
