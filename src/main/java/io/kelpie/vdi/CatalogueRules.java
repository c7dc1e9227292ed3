package io.kelpie.vdi;

import io.kelpie.common.Fnv1a;
import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;

import java.nio.charset.StandardCharsets;

/** Checks of names and copies, made before an op is ordered and again when it is applied. */
final class CatalogueRules {
    private CatalogueRules() {
    }

    static void checkCopies(int copies) {
        if (copies < 0 || copies > Inode.MAX_COPIES) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + Inode.MAX_COPIES);
        }
    }

    static void validateName(String name) {
        if (name == null || name.isEmpty()) {
            throw new KelpieException(Status.INVALID, "VDI name must not be empty");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > Inode.MAX_NAME_BYTES) {
            throw new KelpieException(Status.INVALID, "VDI name is longer than " + Inode.MAX_NAME_BYTES + " bytes");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '@' || c == '/' || Character.isISOControl(c)) {
                throw new KelpieException(Status.INVALID, "VDI name must not contain '@', '/' or control characters");
            }
        }
    }

    /** Sheepdog's rule: FNV-1a of the name, 24 bits (0 is no VDI id: 1 instead). */
    static int hashVid(String name) {
        int vid = (int) (Fnv1a.hash(name.getBytes(StandardCharsets.UTF_8)) & ObjectIds.MAX_VDI_ID);
        return vid == 0 ? 1 : vid;
    }
}
