package io.stowage.config;

import io.stowage.StowageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The configuration file as the text Camel reads (UTF-8), line by line: for the line numbers of messages, and to
 * refuse a file whose values would not be the letters the operator wrote.
 */
final class ConfigurationText {
    private ConfigurationText() {
    }

    /**
     * The file's lines, for the line numbers of messages. Camel reads it as UTF-8, replacing what is not: a file an
     * editor saved as Latin-1 would give values with other letters than the ones written, so it is refused, naming
     * the first line that is not UTF-8.
     */
    static List<String> lines(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return List.of(); // read by Camel already; only the line numbers of messages are lost
        }
        List<String> lines = new java.util.ArrayList<>();
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb && (bytes[2] & 0xff) == 0xbf) {
            // Camel keeps a byte order mark as part of the first key, where it is invisible in any message.
            start = 3;
        }
        boolean marked = start == 3;
        for (int i = 0; i <= bytes.length; i++) {
            // Line ends as java.util.Properties has them: \n, \r\n or \r alone.
            if (i == bytes.length || bytes[i] == '\n' || bytes[i] == '\r') {
                try {
                    lines.add(java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                            .decode(java.nio.ByteBuffer.wrap(bytes, start, i - start)).toString());
                } catch (java.nio.charset.CharacterCodingException e) {
                    throw StowageException.usage(file + ", line " + (lines.size() + 1) + ": not UTF-8 text; HINT: "
                            + "save the file as UTF-8");
                }
                if (i < bytes.length - 1 && bytes[i] == '\r' && bytes[i + 1] == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        if (marked && !lines.isEmpty() && !lines.get(0).isBlank() && !lines.get(0).strip().startsWith("#")
                && !lines.get(0).strip().startsWith("!")) {
            throw StowageException.usage(file + ", line 1: the file starts with a byte order mark, which becomes part "
                    + "of the first key; HINT: save the file as UTF-8 without a byte order mark");
        }
        return lines;
    }
}
