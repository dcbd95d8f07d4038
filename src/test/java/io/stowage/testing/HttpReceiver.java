package io.stowage.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A real HTTP server on loopback that keeps every request it receives: the Slack and PagerDuty of the tests. */
public final class HttpReceiver implements AutoCloseable {
    /** One request as received. */
    public record Request(String method, String path, String contentType, String body) {
    }

    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile int status = 200;

    public HttpReceiver() throws IOException {
        this(0);
    }

    /** A receiver on {@code port}: the one an earlier receiver had, to bring a peer back where it was. */
    public HttpReceiver(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    exchange.getRequestHeaders().getFirst("Content-Type"), body));
            byte[] answer = exchange.getRequestURI().getPath().startsWith("/slack") ? "ok".getBytes()
                    : "{\"status\":\"success\",\"message\":\"Event processed\"}".getBytes();
            exchange.sendResponseHeaders(status == 200 && !exchange.getRequestURI().getPath().startsWith("/slack")
                    ? 202 : status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Answers every later request with this status (for example 500, to test a receiver that fails). */
    public void status(int status) {
        this.status = status;
    }

    public List<Request> requests(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).toList();
    }

    public void clear() {
        requests.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
