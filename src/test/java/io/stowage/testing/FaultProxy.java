package io.stowage.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of a real server (the test S3 server, say) that a test switches between faults:
 * {@link Mode#PASS} forwards; {@link Mode#REFUSE} resets every open connection and every new one at once (a server
 * down: the client's connect or its next read fails immediately); {@link Mode#HANG} accepts connections and reads
 * what the client sends but forwards nothing either way, on open connections too (a server or network that stopped
 * answering: only the client's own timeouts end the wait); {@link Mode#CUT} forwards until the clients have sent
 * {@link #cutAfter} more bytes, then resets everything and refuses from then on (a connection lost mid-upload).
 * Switching back to PASS lets held connections go on (after a HANG) and new ones through.
 *
 * <p>{@link #connections()} counts the connections clients opened: a measure of attempts.
 */
public final class FaultProxy implements AutoCloseable {
    public enum Mode { PASS, REFUSE, HANG, CUT }

    private final ServerSocket server;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong sentSinceCutArmed = new AtomicLong();
    private volatile Mode mode = Mode.PASS;
    private volatile long cutAfter = Long.MAX_VALUE;

    public FaultProxy(int targetPort) throws IOException {
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        Thread acceptor = new Thread(this::accept, "fault-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy in front of the test JVM's S3 server. */
    public static FaultProxy forS3() throws IOException {
        String endpoint = S3TestServer.get().endpoint();
        return new FaultProxy(Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1)));
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    public Mode mode() {
        return mode;
    }

    /** Switches to {@code next}; REFUSE resets every open connection now. */
    public synchronized void mode(Mode next) {
        mode = next;
        if (next == Mode.REFUSE) {
            resetAll();
        }
    }

    /** CUT mode, armed: the connection that carries the client's byte number {@code bytes} from now on is cut. */
    public synchronized void cutAfter(long bytes) {
        sentSinceCutArmed.set(0);
        cutAfter = bytes;
        mode = Mode.CUT;
    }

    /** Connections clients opened since the proxy started. */
    public long connections() {
        return connections.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            try {
                Mode now = mode;
                if (now == Mode.REFUSE || (now == Mode.CUT && sentSinceCutArmed.get() >= cutAfter)) {
                    reset(client);
                    continue;
                }
                sockets.add(client);
                if (now == Mode.HANG) {
                    // Read and drop until the mode changes; forward nothing. A later PASS does not revive it: the
                    // request it held is gone, as behind a real black hole.
                    drain(client);
                    continue;
                }
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(upstream);
                pump(client, client.getInputStream(), upstream.getOutputStream(), true);
                pump(upstream, upstream.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                reset(client);
            }
        }
    }

    private void drain(Socket client) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = client.getInputStream()) {
                while (in.read(buffer) != -1) {
                    // dropped
                }
            } catch (IOException ignored) {
                // closed
            }
        }, "fault-proxy-hang");
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(Socket from, InputStream in, OutputStream out, boolean clientToServer) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    while (mode == Mode.HANG && !from.isClosed()) {
                        Thread.sleep(20); // held, not forwarded, until the mode changes
                    }
                    if (mode == Mode.REFUSE) {
                        return;
                    }
                    if (clientToServer && mode == Mode.CUT && sentSinceCutArmed.addAndGet(n) >= cutAfter) {
                        resetAll();
                        return;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
                out.close();
            } catch (IOException | InterruptedException ignored) {
                // a reset or a closed peer
            }
        }, "fault-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private synchronized void resetAll() {
        for (Socket socket : sockets) {
            reset(socket);
        }
        sockets.clear();
    }

    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0); // a reset, not an orderly close
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        mode = Mode.REFUSE;
        resetAll();
        server.close();
    }
}
