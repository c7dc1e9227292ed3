package io.kelpie.cluster;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * The group a node belongs to, as {@link OrderedDriver} keeps it on its event thread: the members
 * in admission order, the group's lineage, generation and history hash (see {@link Wire.Stamp}),
 * and which members have confirmed, in the current transport view, that they are at the same
 * point of the same history. Only confirmed members count towards quorum: a member that is in the
 * view but has moved on (or fallen behind) without this node is not a vote for this node's state.
 */
final class Group {
    record Member(NodeInfo info, Object address) {
    }

    private static final long PRIME = 0x100000001b3L;

    private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    private final Set<Object> confirmed = new HashSet<>();
    private long lineage;
    private long generation;
    private long hash;

    void found(NodeInfo self, Object address, long newLineage) {
        clear();
        lineage = newLineage;
        hash = newLineage;
        admit(self, address);
    }

    void clear() {
        members.clear();
        confirmed.clear();
        lineage = 0;
        generation = 0;
        hash = 0;
    }

    /** A membership change: the generation and hash move on identically on every member. */
    private void changed(int kind, String id) {
        generation++;
        hash = (hash ^ (kind * 31L + id.hashCode())) * PRIME;
    }

    void admit(NodeInfo info, Object address) {
        members.put(info.id(), new Member(info, address));
        confirmed.add(address);
        changed(1, info.id());
    }

    Member remove(String id) {
        Member m = members.remove(id);
        if (m != null) {
            confirmed.remove(m.address());
            changed(2, id);
        }
        return m;
    }

    Member get(String id) {
        return members.get(id);
    }

    List<Member> all() {
        return new ArrayList<>(members.values());
    }

    int size() {
        return members.size();
    }

    long lineage() {
        return lineage;
    }

    Wire.Stamp stamp(String self) {
        return new Wire.Stamp(self, lineage, generation, hash);
    }

    /** The sender of a stamped message is one of this group's members, at this address. */
    boolean isMember(Wire.Stamp s, Object from) {
        Member m = members.get(s.sender());
        return m != null && m.address().equals(from) && s.lineage() == lineage;
    }

    /** The sender is one of this group's members, at this address, but now of another lineage. */
    boolean movedOn(Wire.Stamp s, Object from) {
        Member m = members.get(s.sender());
        return m != null && m.address().equals(from) && s.lineage() != lineage;
    }

    /** The member has applied membership changes this node has not: this node missed some. */
    boolean isAhead(Wire.Stamp s) {
        return s.generation() > generation;
    }

    /** At the same point of the same history as this node. */
    boolean agrees(Wire.Stamp s) {
        return s.generation() == generation && s.hash() == hash;
    }

    void confirm(Object address) {
        confirmed.add(address);
    }

    void unconfirm(Object address) {
        confirmed.remove(address);
    }

    /** A new transport view: members that dropped out of it must confirm again when they return. */
    void prune(List<Object> view) {
        confirmed.retainAll(new HashSet<>(view));
    }

    /** A joiner trusts the group that admitted it: every member in its view. */
    void confirmAll(List<Object> view) {
        Set<Object> live = new HashSet<>(view);
        members.values().forEach(m -> {
            if (live.contains(m.address())) {
                confirmed.add(m.address());
            }
        });
    }

    /** The members in the view that have confirmed this node's history, in admission order. */
    List<NodeInfo> reachable(List<Object> view) {
        Set<Object> live = new HashSet<>(view);
        List<NodeInfo> out = new ArrayList<>();
        for (Member m : members.values()) {
            if (live.contains(m.address()) && confirmed.contains(m.address())) {
                out.add(m.info());
            }
        }
        return out;
    }

    /** Addresses in the view that are not confirmed members (joiners, other groups, laggards). */
    boolean viewHasStrangers(List<Object> view) {
        for (Object a : view) {
            if (!confirmed.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** Members in the view that have not confirmed yet (their HELLO is asked for). */
    boolean missesConfirmations(List<Object> view) {
        Set<Object> live = new HashSet<>(view);
        for (Member m : members.values()) {
            if (live.contains(m.address()) && !confirmed.contains(m.address())) {
                return true;
            }
        }
        return false;
    }

    /** The first reachable member in admission order speaks for the group. */
    Member leader(List<Object> view) {
        return leader(view, null);
    }

    /** The leader among the members other than the one at {@code except}. */
    Member leader(List<Object> view, Object except) {
        Set<Object> live = new HashSet<>(view);
        for (Member m : members.values()) {
            if (live.contains(m.address()) && confirmed.contains(m.address()) && !m.address().equals(except)) {
                return m;
            }
        }
        return null;
    }

    List<NodeInfo> infos() {
        List<NodeInfo> list = new ArrayList<>(members.size());
        members.values().forEach(m -> list.add(m.info()));
        return List.copyOf(list);
    }

    void writeTo(DataOutput out, Transport transport) throws IOException {
        out.writeLong(lineage);
        out.writeLong(generation);
        out.writeLong(hash);
        out.writeInt(members.size());
        for (Member m : members.values()) {
            m.info().writeTo(out);
            transport.writeAddress(m.address(), out);
        }
    }

    void readFrom(DataInput in, Transport transport) throws IOException {
        clear();
        lineage = in.readLong();
        generation = in.readLong();
        hash = in.readLong();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            NodeInfo info = NodeInfo.readFrom(in);
            members.put(info.id(), new Member(info, transport.readAddress(in)));
        }
    }
}
