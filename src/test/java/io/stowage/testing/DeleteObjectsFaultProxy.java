package io.stowage.testing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;

/**
 * An HTTP/1.1 proxy on loopback in front of the test S3 server that answers S3's DeleteObjects as S3 does when it
 * is in trouble. Every request and its answer pass byte for byte (keep-alive, Content-Length or chunked bodies,
 * {@code Expect: 100-continue}), so signatures stay valid, except the next DeleteObjects requests a test armed it for:
 * <ul>
 *   <li>{@link #failKeys}: the request is taken apart, the keys to fail are left in place and the others deleted
 *       on the server, and the answer is a 200 whose {@code DeleteResult} reports each key left as an
 *       {@code <Error>} with its code ({@code SlowDown}, {@code AccessDenied}, ...);</li>
 *   <li>{@link #failRequest}: the answer is an HTTP error (a 503 {@code SlowDown}, say) with S3's error body, and
 *       nothing is deleted.</li>
 * </ul>
 * It does not check the client's signature on the requests it answers itself.
 */
public final class DeleteObjectsFaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Integer> deleteRequests = new CopyOnWriteArrayList<>();
    private final AtomicInteger keyFaults = new AtomicInteger();
    private final AtomicInteger requestFaults = new AtomicInteger();
    private volatile Function<String, String> errorOf = key -> null;
    private volatile int status;
    private volatile String requestCode;

    public DeleteObjectsFaultProxy() throws IOException {
        String endpoint = S3TestServer.get().endpoint();
        this.targetPort = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "delete-fault-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /**
     * The next {@code times} DeleteObjects requests leave in place each key (a full object key, the prefix included)
     * for which {@code errorOf} gives an error code, and report it as failed with that code; the keys for which it
     * gives null are deleted.
     */
    public void failKeys(int times, Function<String, String> errorOf) {
        this.errorOf = errorOf;
        keyFaults.set(times);
    }

    /** The next {@code times} DeleteObjects requests fail whole with HTTP {@code status} and S3's {@code code}. */
    public void failRequest(int times, int status, String code) {
        this.status = status;
        this.requestCode = code;
        requestFaults.set(times);
    }

    /** The number of keys of each DeleteObjects request that reached the proxy, in order. */
    public List<Integer> deleteRequests() {
        return List.copyOf(deleteRequests);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread thread = new Thread(() -> serve(client), "delete-fault-proxy-connection");
                thread.setDaemon(true);
                thread.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** One client connection: its requests in turn, over one connection to the server. */
    private void serve(Socket client) {
        try (client; Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
            sockets.add(upstream);
            InputStream fromClient = client.getInputStream();
            OutputStream toClient = client.getOutputStream();
            InputStream fromServer = upstream.getInputStream();
            OutputStream toServer = upstream.getOutputStream();
            while (true) {
                Message request = Message.read(fromClient);
                if (request == null) {
                    return;
                }
                boolean continued = false;
                if ("100-continue".equalsIgnoreCase(request.header("expect"))) {
                    // The client waits for this before it sends the body; the server's own is dropped below.
                    toClient.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(ISO_8859_1));
                    toClient.flush();
                    continued = true;
                }
                byte[] body = request.readBody(fromClient);
                if (isDeleteObjects(request)) {
                    deleteRequests.add(count(body, "<Key>"));
                    if (requestFaults.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        answer(toClient, status, reason(status), "application/xml", errorBody(requestCode));
                        continue;
                    }
                    if (keyFaults.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        answer(toClient, 200, "OK", "application/xml", deleteWithErrors(request, body));
                        continue;
                    }
                }
                toServer.write(request.head);
                toServer.write(body);
                toServer.flush();
                Message response;
                do {
                    response = Message.read(fromServer);
                    if (response == null) {
                        return;
                    }
                } while (response.status() == 100 && continued);
                toClient.write(response.head);
                if (!request.method().equals("HEAD")) {
                    response.copyBody(fromServer, toClient);
                }
                toClient.flush();
                if ("close".equalsIgnoreCase(response.header("connection"))) {
                    return;
                }
            }
        } catch (IOException e) {
            // a peer went away
        }
    }

    private static boolean isDeleteObjects(Message request) {
        if (!request.method().equals("POST")) {
            return false;
        }
        String target = request.target();
        int query = target.indexOf('?');
        if (query < 0) {
            return false;
        }
        for (String parameter : target.substring(query + 1).split("&")) {
            if (parameter.equals("delete") || parameter.startsWith("delete=")) {
                return true;
            }
        }
        return false;
    }

    /** Deletes the keys not to fail on the server, and says so as S3 would. */
    private byte[] deleteWithErrors(Message request, byte[] body) throws IOException {
        String path = request.target().substring(0, request.target().indexOf('?'));
        String bucket = path.replaceAll("^/+", "").replaceAll("/+$", "");
        Document document;
        try {
            document = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(new java.io.ByteArrayInputStream(body));
        } catch (Exception e) {
            throw new IOException("not a DeleteObjects body: " + new String(body, UTF_8), e);
        }
        NodeList quietNodes = document.getElementsByTagName("Quiet");
        boolean quiet = quietNodes.getLength() > 0 && quietNodes.item(0).getTextContent().trim().equals("true");
        List<String> deleted = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        NodeList objects = document.getElementsByTagName("Object");
        for (int i = 0; i < objects.getLength(); i++) {
            String key = ((Element) objects.item(i)).getElementsByTagName("Key").item(0).getTextContent();
            String code = errorOf.apply(key);
            if (code == null) {
                deleted.add(key);
            } else {
                failed.put(key, code);
            }
        }
        if (!deleted.isEmpty()) {
            S3TestServer.get().client().deleteObjects(r -> r.bucket(bucket).delete(Delete.builder()
                    .objects(deleted.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList()).build()));
        }
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        if (!quiet) {
            for (String key : deleted) {
                xml.append("<Deleted><Key>").append(escape(key)).append("</Key></Deleted>");
            }
        }
        failed.forEach((key, code) -> xml.append("<Error><Key>").append(escape(key)).append("</Key><Code>")
                .append(code).append("</Code><Message>").append(message(code)).append("</Message></Error>"));
        return xml.append("</DeleteResult>").toString().getBytes(UTF_8);
    }

    private static byte[] errorBody(String code) {
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message(code)
                + "</Message><RequestId>" + UUID.randomUUID() + "</RequestId><HostId>delete-fault-proxy</HostId>"
                + "</Error>").getBytes(UTF_8);
    }

    private static String reason(int status) {
        return switch (status) {
            case 403 -> "Forbidden";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Error";
        };
    }

    private static String message(String code) {
        return switch (code) {
            case "SlowDown" -> "Please reduce your request rate.";
            case "AccessDenied" -> "Access Denied";
            case "InternalError" -> "We encountered an internal error. Please try again.";
            default -> code;
        };
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static int count(byte[] body, String tag) {
        String text = new String(body, UTF_8);
        int n = 0;
        for (int at = text.indexOf(tag); at >= 0; at = text.indexOf(tag, at + 1)) {
            n++;
        }
        return n;
    }

    private static void answer(OutputStream out, int status, String reason, String type, byte[] body)
            throws IOException {
        String head = "HTTP/1.1 " + status + " " + reason + "\r\n"
                + "Content-Type: " + type + "\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "x-amz-request-id: " + UUID.randomUUID() + "\r\n"
                + "\r\n";
        out.write(head.getBytes(ISO_8859_1));
        out.write(body);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    /** An HTTP/1.1 request or response head, as read, with its headers by lower-case name. */
    private record Message(byte[] head, String startLine, Map<String, String> headers) {

        /** The next head on {@code in}; null at the end of the stream before any byte of it. */
        static Message read(InputStream in) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    if (bytes.size() == 0) {
                        return null;
                    }
                    throw new IOException("the stream ended inside an HTTP head");
                }
                bytes.write(b);
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            byte[] head = bytes.toByteArray();
            String[] lines = new String(head, ISO_8859_1).split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            lines[i].substring(colon + 1).trim());
                }
            }
            return new Message(head, lines[0], headers);
        }

        String header(String name) {
            return headers.get(name);
        }

        String method() {
            return startLine.split(" ")[0];
        }

        String target() {
            return startLine.split(" ")[1];
        }

        int status() {
            return Integer.parseInt(startLine.split(" ")[1]);
        }

        /** A request's body, whole: by its Content-Length, or its chunks as sent. */
        byte[] readBody(InputStream in) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            copyBody(in, body);
            return body.toByteArray();
        }

        /** Copies the body that follows this head, as it was sent; a response without a length ends with the stream. */
        void copyBody(InputStream in, OutputStream out) throws IOException {
            boolean response = startLine.startsWith("HTTP/");
            if (response && (status() / 100 == 1 || status() == 204 || status() == 304)) {
                return;
            }
            String encoding = header("transfer-encoding");
            if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
                copyChunks(in, out);
            } else if (header("content-length") != null) {
                copy(in, out, Long.parseLong(header("content-length")));
            } else if (response) {
                in.transferTo(out);
            }
        }

        private static void copyChunks(InputStream in, OutputStream out) throws IOException {
            while (true) {
                String sizeLine = line(in);
                out.write((sizeLine + "\r\n").getBytes(ISO_8859_1));
                int semicolon = sizeLine.indexOf(';');
                long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
                if (size == 0) {
                    // Trailers, then the empty line.
                    for (String trailer = line(in); ; trailer = line(in)) {
                        out.write((trailer + "\r\n").getBytes(ISO_8859_1));
                        if (trailer.isEmpty()) {
                            return;
                        }
                    }
                }
                copy(in, out, size + 2); // the chunk and its CRLF
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int previous = -1;
            for (int b = in.read(); ; b = in.read()) {
                if (b < 0) {
                    throw new IOException("the stream ended inside a chunked body");
                }
                if (previous == '\r' && b == '\n') {
                    byte[] line = bytes.toByteArray();
                    return new String(line, 0, line.length - 1, ISO_8859_1);
                }
                bytes.write(b);
                previous = b;
            }
        }

        private static void copy(InputStream in, OutputStream out, long length) throws IOException {
            byte[] buffer = new byte[16384];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("the stream ended inside a body");
                }
                out.write(buffer, 0, n);
                left -= n;
            }
        }
    }
}
