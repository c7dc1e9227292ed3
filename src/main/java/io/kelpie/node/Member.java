package io.kelpie.node;

/**
 * A node as the cluster knows it.
 *
 * @param id      stable id of the node, kept in its data directory
 * @param address HOST:PORT of its peer/admin protocol
 * @param zone    failure zone; replicas of an object go to distinct zones
 */
public record Member(String id, String address, String zone) {
}
