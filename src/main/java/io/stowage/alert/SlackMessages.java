package io.stowage.alert;

import com.slack.api.model.Message;
import com.slack.api.model.block.LayoutBlock;
import com.slack.api.model.block.composition.MarkdownTextObject;
import com.slack.api.model.block.composition.PlainTextObject;
import com.slack.api.model.block.composition.TextObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Slack Block Kit messages for backup events: a header, the facts as fields, the error line as code. */
public final class SlackMessages {
    private SlackMessages() {
    }

    public static Message of(BackupEvent event) {
        String title = "rto".equals(event.type()) ? (event.kind().bad()
                ? ":warning: RTO objective missed: " + event.job()
                : ":white_check_mark: RTO objective met again: " + event.job())
                : "verify".equals(event.type()) ? (event.kind().bad()
                ? ":rotating_light: Verification failed: " + event.job()
                : ":white_check_mark: Verification passed: " + event.job())
                : "expire".equals(event.type()) ? (event.kind().bad()
                ? ":warning: Expiry failed: " + event.job()
                : ":white_check_mark: Expiry works again: " + event.job()) : switch (event.kind()) {
            case STARTED -> ":hourglass_flowing_sand: Backup started: " + event.job() + " (" + event.type() + ")";
            case SUCCESS -> ":white_check_mark: Backup succeeded: " + event.job() + " (" + event.type() + ")";
            case FAILURE -> ":rotating_light: Backup failed: " + event.job() + " (" + event.type() + ")";
            case STALE -> ":warning: Backup stale: " + event.job() + " (" + event.type() + ")";
            case FRESH -> ":white_check_mark: Backup fresh again: " + event.job() + " (" + event.type() + ")";
        };
        List<TextObject> fields = new ArrayList<>();
        fields.add(field("Job", event.job()));
        fields.add(field("Type", event.type()));
        if (event.backupId() != null) {
            fields.add(field("Backup", "`" + event.backupId() + "`"));
        }
        if (event.duration() != null) {
            fields.add(field("Duration", String.format(Locale.ROOT, "%.1f s", event.duration().toMillis() / 1000.0)));
        }
        if (event.kind() == BackupEvent.Kind.SUCCESS && !"verify".equals(event.type()) && !"rto".equals(event.type())
                && !"expire".equals(event.type())) {
            fields.add(field("Size", io.stowage.Sizes.human(event.sizeBytes()) + " (" + io.stowage.Sizes.human(event.storedBytes()) + " stored)"));
        }
        if (event.attempts() > 1) {
            fields.add(field("Attempts", Integer.toString(event.attempts())));
        }
        fields.add(field("Host", event.host()));
        List<LayoutBlock> blocks = new ArrayList<>();
        blocks.add(com.slack.api.model.block.HeaderBlock.builder()
                .text(PlainTextObject.builder().text(title).emoji(true).build()).build());
        blocks.add(com.slack.api.model.block.SectionBlock.builder().fields(fields).build());
        if (event.error() != null) {
            blocks.add(com.slack.api.model.block.SectionBlock.builder()
                    .text(MarkdownTextObject.builder().text("```" + event.error() + "```").build()).build());
        }
        Message message = new Message();
        message.setText(title + (event.error() == null ? "" : ": " + event.error()));
        message.setBlocks(blocks);
        return message;
    }

    private static TextObject field(String name, String value) {
        return MarkdownTextObject.builder().text("*" + name + "*\n" + value).build();
    }
}
