package io.stowage.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback that forwards to a real server and cuts every connection once the clients have sent more
 * than a set number of bytes; after the cut it refuses to forward anything. It makes "the network failed in the
 * middle of an upload" happen for real, at a chosen point. It can also flip one byte of what the server sends
 * ({@link #corruptResponseByte}): a download damaged in transit, below anything TCP would notice.
 */
public final class FlakyTcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final long bytesBeforeCut;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private volatile long corruptAt = -1;
    private final AtomicBoolean cut = new AtomicBoolean();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    public FlakyTcpProxy(int targetPort, long bytesBeforeCut) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.bytesBeforeCut = bytesBeforeCut;
        Thread acceptor = new Thread(this::accept, "flaky-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public boolean wasCut() {
        return cut.get();
    }

    /** Cuts every connection now and refuses new ones (a server gone), or, with false, forwards again. */
    public void down(boolean down) {
        if (down) {
            cutAll();
        } else {
            sent.set(0);
            cut.set(false);
        }
    }

    /**
     * Flips the bits of the byte at {@code offset} of everything the server sends from now on (all connections
     * counted together), once.
     */
    public void corruptResponseByte(long offset) {
        received.set(0);
        corruptAt = offset;
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (cut.get()) {
                    client.close();
                    continue;
                }
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(upstream);
                pump(client.getInputStream(), upstream.getOutputStream(), true);
                pump(upstream.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(InputStream in, OutputStream out, boolean counted) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    if (counted && sent.addAndGet(n) > bytesBeforeCut) {
                        cutAll();
                        return;
                    }
                    if (!counted) {
                        long end = received.addAndGet(n);
                        long at = corruptAt;
                        if (at >= end - n && at < end) {
                            buffer[(int) (at - (end - n))] ^= (byte) 0xff;
                            corruptAt = -1;
                        }
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // a cut or a closed peer
            }
        }, "flaky-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void cutAll() {
        cut.set(true);
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        cutAll();
        server.close();
    }
}
