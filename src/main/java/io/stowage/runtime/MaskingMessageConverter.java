package io.stowage.runtime;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.stowage.Secrets;

/**
 * Log message converter ({@code %mmsg} in logback.xml): every known secret masked, every control character escaped,
 * so that a message is one line, whatever names and tool output it holds.
 */
public final class MaskingMessageConverter extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return io.stowage.TerminalText.line(Secrets.mask(super.convert(event)));
    }
}
