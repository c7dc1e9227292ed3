package io.kelpie.node;

import java.util.List;

/** One entry of the epoch log: from {@code time} on, the cluster was {@code members}. */
public record EpochRecord(long epoch, long time, List<Member> members) {
}
