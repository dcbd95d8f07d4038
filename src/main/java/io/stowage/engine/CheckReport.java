package io.stowage.engine;

/** Where {@code check} findings go: one line each, {@code ok}, {@code WARN} or {@code FAIL}. */
public interface CheckReport {
    void ok(String line);

    void warn(String line);

    void fail(String line);
}
