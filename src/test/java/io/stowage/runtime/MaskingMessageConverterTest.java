package io.stowage.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.stowage.Secrets;
import org.junit.jupiter.api.Test;

/** A log message is one line with no secret and no control character, whatever names and tool output it holds. */
class MaskingMessageConverterTest {
    @Test
    void should_mask_secrets_and_escape_control_characters() {
        Secrets.register("converter-secret-value");
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent(getClass().getName(), context.getLogger("io.stowage.Test"), Level.WARN,
                "removing {} of job {}", null, new Object[] {"\u001b]0;title\u0007x\ny", "converter-secret-value"});
        MaskingMessageConverter converter = new MaskingMessageConverter();
        assertThat(converter.convert(event)).isEqualTo("removing \\x1b]0;title\\x07x\\x0ay of job ****");
    }
}
