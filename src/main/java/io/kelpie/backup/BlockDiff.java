package io.kelpie.backup;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The runs of {@link BackupFormat#BLOCK}-sized blocks in which two versions of one object differ. */
public final class BlockDiff {
    private static final byte[] ZEROS = new byte[BackupFormat.BLOCK];

    private BlockDiff() {
    }

    /** A run {@code [start, start + length)} within the object. */
    public record Run(int start, int length) {
    }

    /**
     * @param from the object in the base snapshot, or null where it reads as zeros (unallocated, or
     *             a full backup, which then leaves out zero blocks: the new VDI reads them as zeros)
     * @param to   the object in the newer snapshot, of the same length as {@code from}
     */
    public static List<Run> runs(byte[] from, byte[] to) {
        List<Run> out = new ArrayList<>();
        int runStart = -1;
        for (int at = 0; at < to.length; at += BackupFormat.BLOCK) {
            int end = Math.min(to.length, at + BackupFormat.BLOCK);
            boolean same = from != null ? Arrays.equals(from, at, end, to, at, end)
                    : Arrays.equals(ZEROS, 0, end - at, to, at, end);
            if (!same && runStart < 0) {
                runStart = at;
            } else if (same && runStart >= 0) {
                out.add(new Run(runStart, at - runStart));
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            out.add(new Run(runStart, to.length - runStart));
        }
        return out;
    }
}
