/**
 * Cluster membership, epochs and placement.
 *
 * <ul>
 *   <li>{@link io.kelpie.cluster.ClusterDriver}: join/leave and a totally ordered broadcast in
 *       which membership changes are events too ({@link io.kelpie.cluster.OrderedDriver}), over
 *       JGroups ({@link io.kelpie.cluster.JGroupsDriver}, SEQUENCER for total order) or an in-JVM
 *       hub ({@link io.kelpie.cluster.LocalDriver}). JGroups decides who is alive; the ordered
 *       JOIN/LEAVE messages decide when, in the stream, a node becomes or stops being a member.</li>
 *   <li>{@link io.kelpie.cluster.ClusterManager}: the state every member derives from the stream
 *       in the same order - config (format), epochs (a new one on every join and leave once
 *       formatted, logged in {@link io.kelpie.cluster.EpochLog}), and the application's state
 *       (the VDI catalogue). A joiner adopts a member's snapshot taken at its own JOIN.</li>
 *   <li>{@link io.kelpie.cluster.Ring}: Sheepdog's vnode ring, a pure function of one epoch's
 *       member list, so the placement of any epoch can be recomputed (recovery).</li>
 * </ul>
 */
package io.kelpie.cluster;
