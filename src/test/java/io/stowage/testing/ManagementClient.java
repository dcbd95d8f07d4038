package io.stowage.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * GET on a service's management server as Prometheus and curl do it: HTTP/1.1, and an answer within a deadline or a
 * failed test, never a hung suite.
 *
 * <p>Why HTTP/1.1 is set: the JDK client's default is HTTP/2, which over plain http asks the server to upgrade the
 * connection (h2c), and the management server (Vert.x) agrees. On such an upgraded connection about one request in a
 * hundred never got its answer in the JDK 17 client (reproduced: 3 of 400 against a running service, 0 of 400 with
 * HTTP/1.1, 0 of 300 for curl with h2c), and the client's own request timeout did not fire: a scrape that hung the
 * suite. The deadline here is the client's future, which always ends.
 */
public final class ManagementClient {
    private ManagementClient() {
    }

    /** The status and body of {@code GET http://127.0.0.1:port/path}. */
    public static String get(int port, String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build();
        var pending = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        try {
            HttpResponse<String> response = pending.get(35, TimeUnit.SECONDS);
            return response.statusCode() + " " + response.body();
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new AssertionError("no answer from http://127.0.0.1:" + port + path + " within 35 s", e);
        }
    }

    /**
     * The value of {@code series} (a metric name with its labels, exactly as exposed: {@code name{a="b"}}) in a
     * Prometheus exposition; empty when it is not exported (a counter never incremented, say).
     */
    public static java.util.OptionalDouble sample(String exposition, String series) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(series + " ")) {
                return java.util.OptionalDouble.of(Double.parseDouble(line.substring(series.length() + 1).trim()
                        .split(" ")[0]));
            }
        }
        return java.util.OptionalDouble.empty();
    }
}
