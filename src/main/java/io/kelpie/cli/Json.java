package io.kelpie.cli;

/** Just enough JSON output for listings: strings escaped per RFC 8259. */
final class Json {
    private final StringBuilder sb = new StringBuilder();
    private boolean needComma;

    Json beginObject() {
        comma();
        sb.append('{');
        needComma = false;
        return this;
    }

    Json endObject() {
        sb.append('}');
        needComma = true;
        return this;
    }

    Json beginArray() {
        comma();
        sb.append('[');
        needComma = false;
        return this;
    }

    Json endArray() {
        sb.append(']');
        needComma = true;
        return this;
    }

    /** Starts a member of an object; follow with a value or begin*. */
    Json key(String k) {
        comma();
        quote(k);
        sb.append(':');
        needComma = false;
        return this;
    }

    Json value(String v) {
        comma();
        if (v == null) {
            sb.append("null");
        } else {
            quote(v);
        }
        needComma = true;
        return this;
    }

    Json value(long v) {
        comma();
        sb.append(v);
        needComma = true;
        return this;
    }

    Json value(boolean v) {
        comma();
        sb.append(v);
        needComma = true;
        return this;
    }

    Json field(String k, String v) {
        return key(k).value(v);
    }

    Json field(String k, long v) {
        return key(k).value(v);
    }

    Json field(String k, boolean v) {
        return key(k).value(v);
    }

    private void comma() {
        if (needComma) {
            sb.append(',');
        }
    }

    private void quote(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
