// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - wire protocol v1: packet encoding, decoding and validation, and
 * handshake negotiation.
 *
 * Everything here is pure: no sockets, no allocation, no locks, no sleeping.
 * Every function may be called from any context.  Decoders trust nothing in
 * the packet and return a negative errno on the first invalid field; the
 * caller closes the connection on any error (see Documentation/protocol.rst).
 */

#include <linux/bio.h>
#include <linux/blk_types.h>
#include <linux/crc32c.h>
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/string.h>

#include "rblk.h"

/* Header plus fixed payload of each command; DATA has more after it. */
static const u32 rblk_payload_bytes[RBLK_P_CMD_MAX + 1] = {
	[RBLK_P_HELLO]		= sizeof(struct rblk_p_hello),
	[RBLK_P_HELLO_REJECT]	= sizeof(struct rblk_p_reject),
	[RBLK_P_DATA]		= sizeof(struct rblk_p_data),
	[RBLK_P_FLUSH]		= 0,
	[RBLK_P_TRIM]		= sizeof(struct rblk_p_trim),
	[RBLK_P_ACK]		= sizeof(struct rblk_p_ack),
	[RBLK_P_PING]		= 0,
	[RBLK_P_PING_ACK]	= 0,
	[RBLK_P_STATE]		= sizeof(struct rblk_p_state),
	[RBLK_P_ROLE_REQ]	= sizeof(struct rblk_p_state),
	[RBLK_P_ROLE_REPLY]	= sizeof(struct rblk_p_ack),
	[RBLK_P_OUTDATE]	= 0,
	[RBLK_P_UUIDS]		= sizeof(struct rblk_p_uuids),
	[RBLK_P_BITMAP]		= sizeof(struct rblk_p_bitmap),
	[RBLK_P_BEHIND]		= sizeof(struct rblk_p_behind),
	[RBLK_P_BEHIND_ACK]	= sizeof(struct rblk_p_behind),
	[RBLK_P_AUTH_CHALLENGE]	= sizeof(struct rblk_p_auth_challenge),
	[RBLK_P_AUTH_RESPONSE]	= sizeof(struct rblk_p_auth_response),
	[RBLK_P_READ]		= sizeof(struct rblk_p_read),
	[RBLK_P_READ_REPLY]	= sizeof(struct rblk_p_read_reply),
};

/**
 * rblk_hdr_encode() - fill a packet header for sending
 * @hdr: header to fill (24 bytes, all written)
 * @version: protocol version: 1 for HELLO and HELLO_REJECT, else the
 *	negotiated one
 * @command: enum rblk_packet_cmd
 * @flags: RBLK_HDR_F_* (none in version 1)
 * @payload_len_bytes: bytes of payload that will follow the header
 * @request_id: id echoed by the answer, or 0 for packets without answer
 *
 * Context: any.
 */
void rblk_hdr_encode(struct rblk_hdr *hdr, u8 version, u8 command, u16 flags,
		     u32 payload_len_bytes, u64 request_id)
{
	hdr->magic = cpu_to_be32(RBLK_PROTO_MAGIC);
	hdr->version = version;
	hdr->command = command;
	hdr->flags = cpu_to_be16(flags);
	hdr->payload_len_bytes = cpu_to_be32(payload_len_bytes);
	hdr->reserved = 0;
	hdr->request_id = cpu_to_be64(request_id);
}

/**
 * rblk_payload_len_valid() - whether a payload length fits a command
 * @command: a known enum rblk_packet_cmd
 * @payload_len_bytes: payload length from the header
 *
 * Fixed-size commands need their exact payload size.  DATA needs
 * sizeof(struct rblk_p_data) plus a non-zero multiple of 512 bytes of data,
 * at most RBLK_MAX_DATA_BYTES; READ_REPLY sizeof(struct rblk_p_read_reply)
 * plus a multiple of 512 bytes (zero: a failed read), at most
 * RBLK_MAX_DATA_BYTES.
 *
 * Context: any.
 *
 * Return: true if valid.
 */
static bool rblk_payload_len_valid(u8 command, u32 payload_len_bytes)
{
	u32 data_bytes;

	if (payload_len_bytes > RBLK_MAX_PAYLOAD_BYTES)
		return false;
	if (command == RBLK_P_READ_REPLY) {
		if (payload_len_bytes < sizeof(struct rblk_p_read_reply))
			return false;
		data_bytes = payload_len_bytes - sizeof(struct rblk_p_read_reply);
		return data_bytes % RBLK_SECTOR_BYTES == 0 &&
		       data_bytes <= RBLK_MAX_DATA_BYTES;
	}
	if (command != RBLK_P_DATA)
		return payload_len_bytes == rblk_payload_bytes[command];
	if (payload_len_bytes <= sizeof(struct rblk_p_data))
		return false;
	data_bytes = payload_len_bytes - sizeof(struct rblk_p_data);
	return data_bytes % RBLK_SECTOR_BYTES == 0 &&
	       data_bytes <= RBLK_MAX_DATA_BYTES;
}

/**
 * rblk_hdr_decode() - validate a received packet header
 * @hdr: the 24 header bytes as received
 * @expected_version: the version every packet must carry: 1 until the
 *	handshake is done, then the negotiated version
 * @info: the header in host order; filled even on error (then unvalidated,
 *	for the log line)
 *
 * The checks run in this order; the first that fails decides the errno.
 *
 * Context: any.
 *
 * Return: 0 if the header is valid;
 * -EBADMSG if the magic is not RBLK_PROTO_MAGIC (not an rblk stream, or lost
 * framing);
 * -EPROTO if the version is not @expected_version;
 * -EOPNOTSUPP if the command is not an enum rblk_packet_cmd value;
 * -EINVAL if a flag outside RBLK_HDR_F_ALL is set or reserved is non-zero;
 * -EMSGSIZE if the payload length is wrong for the command (see
 * Documentation/protocol.rst), including any length above
 * RBLK_MAX_PAYLOAD_BYTES.
 */
int rblk_hdr_decode(const struct rblk_hdr *hdr, u8 expected_version,
		    struct rblk_hdr_info *info)
{
	info->version = hdr->version;
	info->command = hdr->command;
	info->flags = be16_to_cpu(hdr->flags);
	info->payload_len_bytes = be32_to_cpu(hdr->payload_len_bytes);
	info->request_id = be64_to_cpu(hdr->request_id);

	if (be32_to_cpu(hdr->magic) != RBLK_PROTO_MAGIC)
		return -EBADMSG;
	if (info->version != expected_version)
		return -EPROTO;
	if (info->command == 0 || info->command > RBLK_P_CMD_MAX)
		return -EOPNOTSUPP;
	if (info->flags & ~RBLK_HDR_F_ALL)
		return -EINVAL;
	if (hdr->reserved)
		return -EINVAL;
	if (!rblk_payload_len_valid(info->command, info->payload_len_bytes))
		return -EMSGSIZE;
	return 0;
}

/**
 * rblk_packet_cmd_name() - name of a packet command, for log lines
 * @command: enum rblk_packet_cmd, any value
 *
 * Context: any.
 *
 * Return: e.g. "data", or "invalid" for an unknown value.
 */
const char *rblk_packet_cmd_name(u8 command)
{
	static const char * const names[RBLK_P_CMD_MAX + 1] = {
		[RBLK_P_HELLO]		= "hello",
		[RBLK_P_HELLO_REJECT]	= "hello_reject",
		[RBLK_P_DATA]		= "data",
		[RBLK_P_FLUSH]		= "flush",
		[RBLK_P_TRIM]		= "trim",
		[RBLK_P_ACK]		= "ack",
		[RBLK_P_PING]		= "ping",
		[RBLK_P_PING_ACK]	= "ping_ack",
		[RBLK_P_STATE]		= "state",
		[RBLK_P_ROLE_REQ]	= "role_req",
		[RBLK_P_ROLE_REPLY]	= "role_reply",
		[RBLK_P_OUTDATE]	= "outdate",
		[RBLK_P_UUIDS]		= "uuids",
		[RBLK_P_BITMAP]		= "bitmap",
		[RBLK_P_BEHIND]		= "behind",
		[RBLK_P_BEHIND_ACK]	= "behind_ack",
		[RBLK_P_AUTH_CHALLENGE]	= "auth_challenge",
		[RBLK_P_AUTH_RESPONSE]	= "auth_response",
		[RBLK_P_READ]		= "read",
		[RBLK_P_READ_REPLY]	= "read_reply",
	};

	if (command > RBLK_P_CMD_MAX || !names[command])
		return "invalid";
	return names[command];
}

/* A node's own role on the wire: never RBLK_ROLE_UNKNOWN. */
static bool rblk_own_role_valid(u8 role)
{
	return role == RBLK_ROLE_SECONDARY || role == RBLK_ROLE_PRIMARY;
}

/* A node's own disk state on the wire: never RBLK_DISK_UNKNOWN. */
static bool rblk_own_disk_state_valid(u8 disk_state)
{
	switch (disk_state) {
	case RBLK_DISK_DISKLESS:
	case RBLK_DISK_INCONSISTENT:
	case RBLK_DISK_OUTDATED:
	case RBLK_DISK_UP_TO_DATE:
	case RBLK_DISK_CONSISTENT:
		return true;
	default:
		return false;
	}
}

/**
 * rblk_name_valid() - whether @name is a resource or cluster name
 * @name: NUL-terminated string (may be empty: the caller decides)
 *
 * The rule of the topology file (rblk.conf(5)): only the ASCII characters
 * A-Z a-z 0-9 . _ -, not starting with . or -.  A name becomes a path
 * (/dev/rblk/by-res/NAME), a log prefix and a status field, so it holds
 * no '/', no control or non-ASCII byte.  isalnum() is not used: the
 * kernel's ctype table counts Latin-1 letters as alphanumeric.
 *
 * Context: any.
 */
bool rblk_name_valid(const char *name)
{
	const char *c;

	if (name[0] == '.' || name[0] == '-')
		return false;
	for (c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			return false;
	return true;
}

/*
 * A fixed-size name field: a valid name (rblk_name_valid()), NUL-terminated
 * and NUL-padded after the terminator so that no stray bytes travel.
 */
static bool rblk_name_field_valid(const char *field, size_t size)
{
	size_t len = strnlen(field, size);

	if (len == size || !rblk_name_valid(field))
		return false;
	return !memchr_inv(field + len, 0, size - len);
}

/**
 * rblk_hello_encode() - fill a HELLO payload for sending
 * @p: payload to fill (168 bytes, all written, padding zeroed)
 * @params: this node's parameters; names NUL-terminated (longer ones are
 *	truncated to RBLK_NAME_MAX_BYTES - 1 bytes)
 *
 * Context: any.
 */
void rblk_hello_encode(struct rblk_p_hello *p, const struct rblk_hello_params *params)
{
	memset(p, 0, sizeof(*p));
	p->version_min = cpu_to_be32(params->version_min);
	p->version_max = cpu_to_be32(params->version_max);
	p->features = cpu_to_be64(params->features);
	p->node_id = cpu_to_be32(params->node_id);
	p->peer_node_id = cpu_to_be32(params->peer_node_id);
	p->size_sectors = cpu_to_be64(params->size_sectors);
	p->logical_block_size_bytes = cpu_to_be32(params->logical_block_size_bytes);
	p->role = params->role;
	p->disk_state = params->disk_state;
	strscpy_pad(p->cluster_name, params->cluster_name, sizeof(p->cluster_name));
	strscpy_pad(p->resource_name, params->resource_name, sizeof(p->resource_name));
}

/**
 * rblk_hello_decode() - validate a received HELLO payload
 * @p: the 168 payload bytes as received
 * @params: the peer's parameters in host order; filled only on success
 *
 * Unknown feature bits are accepted (they are negotiated away as the AND of
 * both sides).
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if version_min is 0 or above version_max, a
 * node id is above RBLK_MAX_NODE_ID, the logical block size is not a power
 * of two in 512..65536 bytes, role is not secondary/primary, disk_state is
 * not one of diskless/inconsistent/outdated/up_to_date, pad is non-zero, or
 * a name is not NUL-terminated, has non-zero bytes after its terminator or
 * is not a valid name (rblk_name_valid()).
 */
int rblk_hello_decode(const struct rblk_p_hello *p, struct rblk_hello_params *params)
{
	u32 version_min = be32_to_cpu(p->version_min);
	u32 version_max = be32_to_cpu(p->version_max);
	u32 node_id = be32_to_cpu(p->node_id);
	u32 peer_node_id = be32_to_cpu(p->peer_node_id);
	u32 lbs = be32_to_cpu(p->logical_block_size_bytes);

	if (version_min == 0 || version_min > version_max)
		return -EINVAL;
	if (node_id > RBLK_MAX_NODE_ID || peer_node_id > RBLK_MAX_NODE_ID)
		return -EINVAL;
	if (lbs < 512 || lbs > 65536 || !is_power_of_2(lbs))
		return -EINVAL;
	if (!rblk_own_role_valid(p->role) || !rblk_own_disk_state_valid(p->disk_state))
		return -EINVAL;
	if (p->pad[0] || p->pad[1])
		return -EINVAL;
	if (!rblk_name_field_valid(p->cluster_name, sizeof(p->cluster_name)) ||
	    !rblk_name_field_valid(p->resource_name, sizeof(p->resource_name)))
		return -EINVAL;

	params->version_min = version_min;
	params->version_max = version_max;
	params->features = be64_to_cpu(p->features);
	params->node_id = node_id;
	params->peer_node_id = peer_node_id;
	params->size_sectors = be64_to_cpu(p->size_sectors);
	params->logical_block_size_bytes = lbs;
	params->role = p->role;
	params->disk_state = p->disk_state;
	BUILD_BUG_ON(sizeof(params->cluster_name) != sizeof(p->cluster_name));
	BUILD_BUG_ON(sizeof(params->resource_name) != sizeof(p->resource_name));
	memcpy(params->cluster_name, p->cluster_name, sizeof(params->cluster_name));
	memcpy(params->resource_name, p->resource_name, sizeof(params->resource_name));
	return 0;
}

static int rblk_hello_refuse(struct rblk_hello_result *result, u32 reason,
			     const char *fmt, ...) __printf(3, 4);

/* The data digest a HELLO's @features offer, as rblkadm's file names it. */
static const char *rblk_data_digest_name(u64 features)
{
	return features & RBLK_FEAT_DATA_DIGEST ? "crc32c" : "none";
}

static int rblk_hello_refuse(struct rblk_hello_result *result, u32 reason,
			     const char *fmt, ...)
{
	va_list args;

	result->reason = reason;
	va_start(args, fmt);
	vsnprintf(result->message, sizeof(result->message), fmt, args);
	va_end(args);
	return -ECONNREFUSED;
}

/**
 * rblk_hello_negotiate() - decide whether a connection may proceed
 * @local: this node's parameters (what it sent)
 * @remote: the peer's parameters, from rblk_hello_decode()
 * @result: outcome; on success version and features, on refusal reason and
 *	message (NUL-terminated, fits struct rblk_p_reject.message)
 *
 * Both nodes run the same checks on the same two HELLOs, so both reach the
 * same verdict; the first failing check in this order decides the reason:
 * no common version (VERSION); the peer lacks a feature in
 * RBLK_FEAT_REQUIRED (FEATURES); both nodes have the same node_id, the
 * peer's node_id is not the local peer_node_id or its peer_node_id is not
 * the local node_id (NODE_ID);
 * cluster names differ (CLUSTER); resource names differ (RESOURCE); one
 * side offers RBLK_FEAT_DATA_DIGEST and the other not (DIGEST); sizes in
 * sectors differ (SIZE); logical block sizes differ (BLOCK_SIZE) - neither
 * is compared when either side is Diskless; both are primary
 * (BOTH_PRIMARY).
 *
 * Context: any.
 *
 * Return: 0 when accepted (result->reason is 0, result->version is the
 * highest common version, result->features the AND of both feature sets);
 * -ECONNREFUSED when refused (result->reason is an enum rblk_reject_reason).
 */
int rblk_hello_negotiate(const struct rblk_hello_params *local,
			 const struct rblk_hello_params *remote,
			 struct rblk_hello_result *result)
{
	u32 lo = max(local->version_min, remote->version_min);
	u32 hi = min(local->version_max, remote->version_max);
	u64 missing;

	memset(result, 0, sizeof(*result));

	if (lo > hi)
		return rblk_hello_refuse(result, RBLK_REJECT_VERSION,
					 "no common version: local %u-%u, peer %u-%u",
					 local->version_min, local->version_max,
					 remote->version_min, remote->version_max);
	missing = RBLK_FEAT_REQUIRED & ~(local->features & remote->features);
	if (missing)
		return rblk_hello_refuse(result, RBLK_REJECT_FEATURES,
					 "features missing: local 0x%llx, peer 0x%llx",
					 local->features & RBLK_FEAT_REQUIRED,
					 remote->features & RBLK_FEAT_REQUIRED);
	if (remote->node_id == local->node_id)
		return rblk_hello_refuse(result, RBLK_REJECT_NODE_ID,
					 "node id conflict: both nodes are %u",
					 local->node_id);
	if (remote->node_id != local->peer_node_id)
		return rblk_hello_refuse(result, RBLK_REJECT_NODE_ID,
					 "node id mismatch: expected %u, peer is %u",
					 local->peer_node_id, remote->node_id);
	if (remote->peer_node_id != local->node_id)
		return rblk_hello_refuse(result, RBLK_REJECT_NODE_ID,
					 "node id mismatch: local is %u, peer expects %u",
					 local->node_id, remote->peer_node_id);
	if (strncmp(local->cluster_name, remote->cluster_name, RBLK_NAME_MAX_BYTES))
		return rblk_hello_refuse(result, RBLK_REJECT_CLUSTER,
					 "cluster mismatch: local '%s', peer '%s'",
					 local->cluster_name, remote->cluster_name);
	if (strncmp(local->resource_name, remote->resource_name, RBLK_NAME_MAX_BYTES))
		return rblk_hello_refuse(result, RBLK_REJECT_RESOURCE,
					 "resource mismatch: local '%s', peer '%s'",
					 local->resource_name, remote->resource_name);
	if ((local->features ^ remote->features) & RBLK_FEAT_DATA_DIGEST)
		return rblk_hello_refuse(result, RBLK_REJECT_DIGEST,
					 "data digest mismatch: local %s, peer %s",
					 rblk_data_digest_name(local->features),
					 rblk_data_digest_name(remote->features));
	/* a diskless node (a quorum witness) has no size to compare */
	if (local->disk_state == RBLK_DISK_DISKLESS || remote->disk_state == RBLK_DISK_DISKLESS)
		goto sizes_done;
	if (local->size_sectors != remote->size_sectors)
		return rblk_hello_refuse(result, RBLK_REJECT_SIZE,
					 "size mismatch: local %llu sectors, peer %llu sectors",
					 local->size_sectors, remote->size_sectors);
	if (local->logical_block_size_bytes != remote->logical_block_size_bytes)
		return rblk_hello_refuse(result, RBLK_REJECT_BLOCK_SIZE,
					 "block size mismatch: local %u, peer %u bytes",
					 local->logical_block_size_bytes,
					 remote->logical_block_size_bytes);
sizes_done:
	if (local->role == RBLK_ROLE_PRIMARY && remote->role == RBLK_ROLE_PRIMARY)
		return rblk_hello_refuse(result, RBLK_REJECT_BOTH_PRIMARY,
					 "both primary: node %u and node %u",
					 local->node_id, remote->node_id);

	result->version = hi;
	result->features = local->features & remote->features;
	return 0;
}

/**
 * rblk_hello_auth_check() - do both sides agree on authentication?
 * @have_secret: this node has a shared secret for the resource (and so
 *	offered RBLK_FEAT_AUTH in its HELLO)
 * @remote: the peer's parameters, from rblk_hello_decode()
 * @result: on refusal reason and message, else zeroed
 *
 * Runs right after the HELLOs are decoded, before anything else in them
 * is looked at: a node with a secret talks to no peer that does not prove
 * it has it, and a node without one does not go along with a peer that
 * demands it.
 *
 * Context: any.
 *
 * Return: 0 when both or neither side authenticate; -ECONNREFUSED when
 * this node has a secret and the peer did not offer RBLK_FEAT_AUTH
 * (RBLK_REJECT_AUTH_REQUIRED), or the peer offered it and this node has no
 * secret (RBLK_REJECT_AUTH_UNEXPECTED).
 */
int rblk_hello_auth_check(bool have_secret, const struct rblk_hello_params *remote,
			  struct rblk_hello_result *result)
{
	bool peer_auth = remote->features & RBLK_FEAT_AUTH;

	memset(result, 0, sizeof(*result));
	if (have_secret && !peer_auth)
		return rblk_hello_refuse(result, RBLK_REJECT_AUTH_REQUIRED,
					 "authentication required: peer has no secret");
	if (!have_secret && peer_auth)
		return rblk_hello_refuse(result, RBLK_REJECT_AUTH_UNEXPECTED,
					 "peer demands authentication: no secret here");
	return 0;
}

/**
 * rblk_auth_input_build() - the message of an authentication answer
 * @in: filled (184 bytes, all written, padding zeroed)
 * @challenge: the verifier's challenge, RBLK_AUTH_CHALLENGE_BYTES bytes
 * @responder_node_id: node id of the node that answers the challenge
 * @verifier_node_id: node id of the node that sent the challenge
 * @cluster_name: NUL-terminated; truncated to RBLK_NAME_MAX_BYTES - 1 bytes
 * @resource_name: NUL-terminated; truncated to RBLK_NAME_MAX_BYTES - 1 bytes
 *
 * The responder builds it with its own node id as @responder_node_id, the
 * verifier with the peer's: the same bytes on both sides when both have
 * the same configuration.  The layout is in Documentation/protocol.rst.
 *
 * Context: any.
 */
void rblk_auth_input_build(struct rblk_auth_input *in, const u8 *challenge,
			   u32 responder_node_id, u32 verifier_node_id,
			   const char *cluster_name, const char *resource_name)
{
	memset(in, 0, sizeof(*in));
	memcpy(in->challenge, challenge, sizeof(in->challenge));
	strscpy_pad(in->label, RBLK_AUTH_LABEL, sizeof(in->label));
	in->responder_node_id = cpu_to_be32(responder_node_id);
	in->verifier_node_id = cpu_to_be32(verifier_node_id);
	strscpy_pad(in->cluster_name, cluster_name, sizeof(in->cluster_name));
	strscpy_pad(in->resource_name, resource_name, sizeof(in->resource_name));
}

/**
 * rblk_reject_reason_name() - short name of a handshake reject reason
 * @reason: enum rblk_reject_reason, any value
 *
 * Context: any.
 *
 * Return: e.g. "size", or "invalid" for an unknown value.
 */
const char *rblk_reject_reason_name(u32 reason)
{
	static const char * const names[] = {
		[RBLK_REJECT_VERSION]		= "version",
		[RBLK_REJECT_FEATURES]		= "features",
		[RBLK_REJECT_NODE_ID]		= "node_id",
		[RBLK_REJECT_CLUSTER]		= "cluster",
		[RBLK_REJECT_RESOURCE]		= "resource",
		[RBLK_REJECT_SIZE]		= "size",
		[RBLK_REJECT_BLOCK_SIZE]	= "block_size",
		[RBLK_REJECT_BOTH_PRIMARY]	= "both_primary",
		[RBLK_REJECT_MALFORMED]		= "malformed",
		[RBLK_REJECT_OTHER_PRIMARY]	= "other_primary",
		[RBLK_REJECT_SPLIT_BRAIN]	= "split_brain",
		[RBLK_REJECT_UNRELATED]		= "unrelated",
		[RBLK_REJECT_NEWER_PEER]	= "newer_peer",
		[RBLK_REJECT_RESYNCING]		= "resyncing",
		[RBLK_REJECT_ASK_PRIMARY]	= "ask_primary",
		[RBLK_REJECT_WITNESS]		= "witness",
		[RBLK_REJECT_AUTH_REQUIRED]	= "auth_required",
		[RBLK_REJECT_AUTH_UNEXPECTED]	= "auth_unexpected",
		[RBLK_REJECT_AUTH_FAILED]	= "auth_failed",
		[RBLK_REJECT_DIGEST]		= "digest",
	};

	if (reason >= ARRAY_SIZE(names) || !names[reason])
		return "invalid";
	return names[reason];
}

/**
 * rblk_reject_encode() - fill a HELLO_REJECT payload for sending
 * @p: payload to fill (64 bytes, all written)
 * @reason: enum rblk_reject_reason
 * @message: human-readable reason; truncated to 59 bytes
 *
 * Context: any.
 */
void rblk_reject_encode(struct rblk_p_reject *p, u32 reason, const char *message)
{
	p->reason = cpu_to_be32(reason);
	strscpy_pad(p->message, message, sizeof(p->message));
}

/**
 * rblk_reject_decode() - validate a received HELLO_REJECT payload
 * @p: the 64 payload bytes as received
 * @reason: the enum rblk_reject_reason; set only on success
 * @message: where to copy the message; at least 60 bytes; set only on
 *	success, each byte that is not printable replaced by '?'
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if the reason is not an enum
 * rblk_reject_reason value or the message is not NUL-terminated.
 */
int rblk_reject_decode(const struct rblk_p_reject *p, u32 *reason, char *message)
{
	u32 r = be32_to_cpu(p->reason);
	size_t i;

	if (r < RBLK_REJECT_VERSION || r > RBLK_REJECT_MAX)
		return -EINVAL;
	if (strnlen(p->message, sizeof(p->message)) == sizeof(p->message))
		return -EINVAL;
	*reason = r;
	memcpy(message, p->message, sizeof(p->message));
	/* the peer's text goes to the kernel log and to status: printable only */
	for (i = 0; message[i]; i++)
		if (!isprint(message[i]))
			message[i] = '?';
	return 0;
}

/*
 * Do @sector and @nr_sectors (512-byte units) both fall on logical block
 * boundaries?  A block size that is not a power of two of at least 512
 * bytes never matches.
 */
static bool rblk_range_aligned(u64 sector, u32 nr_sectors, u32 logical_block_size_bytes)
{
	u32 mask;

	if (logical_block_size_bytes < RBLK_SECTOR_BYTES ||
	    !is_power_of_2(logical_block_size_bytes))
		return false;
	mask = logical_block_size_bytes / RBLK_SECTOR_BYTES - 1;
	return !(sector & mask) && !(nr_sectors & mask);
}

/*
 * A request's range: -EINVAL when not aligned to the logical block size
 * (rblk_range_aligned()), -ERANGE when not wholly inside a device of
 * @size_sectors, else 0.
 */
static int rblk_range_check(u64 sector, u32 nr_sectors, u32 logical_block_size_bytes,
			    u64 size_sectors)
{
	if (!rblk_range_aligned(sector, nr_sectors, logical_block_size_bytes))
		return -EINVAL;
	if (sector > size_sectors || nr_sectors > size_sectors - sector)
		return -ERANGE;
	return 0;
}

/* Request flags of a write and the RBLK_DP_* bit that carries each. */
static const struct {
	blk_opf_t opf;
	u32 dp;
} rblk_dp_map[] = {
	{ REQ_FUA,	RBLK_DP_FUA },
	{ REQ_PREFLUSH,	RBLK_DP_PREFLUSH },
	{ REQ_SYNC,	RBLK_DP_SYNC },
	{ REQ_META,	RBLK_DP_META },
	{ REQ_PRIO,	RBLK_DP_PRIO },
	{ REQ_IDLE,	RBLK_DP_IDLE },
};

/**
 * rblk_dp_flags_from_opf() - the DATA flags that carry a write's request flags
 * @opf: the upper-layer bio's bi_opf
 *
 * FUA and PREFLUSH are semantics the peer must apply; SYNC, META, PRIO and
 * IDLE are hints for its I/O scheduler and writeback throttling, so that a
 * VM's sync writes are not treated as background writeback there.  Other
 * flags do not travel.
 *
 * Context: any.
 *
 * Return: RBLK_DP_* bits.
 */
u32 rblk_dp_flags_from_opf(blk_opf_t opf)
{
	unsigned int i;
	u32 dp = 0;

	for (i = 0; i < ARRAY_SIZE(rblk_dp_map); i++)
		if (opf & rblk_dp_map[i].opf)
			dp |= rblk_dp_map[i].dp;
	return dp;
}

/**
 * rblk_opf_from_dp_flags() - request flags for a received write's bio
 * @dp_flags: RBLK_DP_* of a validated DATA packet
 *
 * Context: any.
 *
 * Return: the REQ_* flags to add to REQ_OP_WRITE.
 */
blk_opf_t rblk_opf_from_dp_flags(u32 dp_flags)
{
	blk_opf_t opf = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rblk_dp_map); i++)
		if (dp_flags & rblk_dp_map[i].dp)
			opf |= rblk_dp_map[i].opf;
	return opf;
}

/**
 * rblk_data_encode() - fill the fixed part of a DATA payload
 * @p: payload to fill (16 bytes, all written)
 * @sector: first 512-byte sector of the write
 * @dp_flags: RBLK_DP_*
 * @data_digest: rblk_data_digest() of the data that follows when
 *	RBLK_FEAT_DATA_DIGEST is negotiated, else 0
 *
 * Context: any.
 */
void rblk_data_encode(struct rblk_p_data *p, u64 sector, u32 dp_flags, u32 data_digest)
{
	p->sector = cpu_to_be64(sector);
	p->dp_flags = cpu_to_be32(dp_flags);
	p->data_digest = cpu_to_be32(data_digest);
}

/**
 * rblk_data_decode() - validate the fixed part of a received DATA payload
 * @p: the first 16 payload bytes as received
 * @payload_len_bytes: the header's payload length, already validated by
 *	rblk_hdr_decode()
 * @size_sectors: device size, 512-byte sectors
 * @logical_block_size_bytes: the negotiated logical block size (a power of
 *	two, 512 or more)
 * @digest: RBLK_FEAT_DATA_DIGEST is negotiated: data_digest holds the
 *	sender's digest of the data (any value); else it must be zero
 * @info: the write in host order; filled only on success (data_digest is
 *	0 without @digest)
 *
 * The digest itself can only be checked once the data is in
 * (rblk_data_digest_check()).
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if a flag outside RBLK_DP_ALL and
 * RBLK_DP_RESYNC is set, data_digest is non-zero without @digest, or the
 * sector or the length is not a multiple of the logical block size;
 * -ERANGE if the write does not lie wholly inside the device.
 */
int rblk_data_decode(const struct rblk_p_data *p, u32 payload_len_bytes,
		     u64 size_sectors, u32 logical_block_size_bytes, bool digest,
		     struct rblk_data_info *info)
{
	u64 sector = be64_to_cpu(p->sector);
	u32 dp_flags = be32_to_cpu(p->dp_flags);
	u32 data_bytes = payload_len_bytes - sizeof(*p);
	u32 nr_sectors = data_bytes / RBLK_SECTOR_BYTES;
	int ret;

	if (dp_flags & ~(RBLK_DP_ALL | RBLK_DP_RESYNC))
		return -EINVAL;
	if (!digest && p->data_digest)
		return -EINVAL;
	ret = rblk_range_check(sector, nr_sectors, logical_block_size_bytes, size_sectors);
	if (ret)
		return ret;
	info->sector = sector;
	info->nr_sectors = nr_sectors;
	info->data_bytes = data_bytes;
	info->dp_flags = dp_flags;
	info->data_digest = be32_to_cpu(p->data_digest);
	return 0;
}

/**
 * rblk_data_digest() - the data digest of the data of a bio
 * @bio: bio whose pages hold the data (any bio: a write being sent, a
 *	received one, a resync read); its pages may be in high memory
 * @iter: the part of @bio to digest (its bi_size bytes from its position)
 *
 * The digest of RBLK_FEAT_DATA_DIGEST: crc32c() seeded with
 * RBLK_DATA_DIGEST_SEED over the bytes in order, each segment mapped with
 * bvec_kmap_local().  Equal to crc32c(RBLK_DATA_DIGEST_SEED, buf, len) of
 * the same bytes in one buffer, however the bio splits them.
 *
 * Context: any; the data must not change meanwhile.
 *
 * Return: the digest (host order).
 */
u32 rblk_data_digest(struct bio *bio, struct bvec_iter iter)
{
	u32 crc = RBLK_DATA_DIGEST_SEED;
	struct bio_vec bv;

	__bio_for_each_segment(bv, bio, iter, iter) {
		void *p = bvec_kmap_local(&bv);

		crc = crc32c(crc, p, bv.bv_len);
		kunmap_local(p);
	}
	return crc;
}

/**
 * rblk_data_digest_check() - check a received write against its digest
 * @info: the decoded DATA payload (rblk_data_decode() with the digest
 *	negotiated): info->data_digest is what the sender computed
 * @bio: the bio holding the received data, info->data_bytes bytes from
 *	the start of its bi_iter
 * @computed: set to the digest of the received data
 *
 * Context: any.
 *
 * Return: 0 when the digests are equal; -EBADMSG when they differ: the
 * data changed on its way and must not be written.
 */
int rblk_data_digest_check(const struct rblk_data_info *info, struct bio *bio, u32 *computed)
{
	struct bvec_iter iter = bio->bi_iter;

	iter.bi_size = info->data_bytes;
	*computed = rblk_data_digest(bio, iter);
	return *computed == info->data_digest ? 0 : -EBADMSG;
}

/**
 * rblk_trim_encode() - fill a TRIM payload
 * @p: payload to fill (16 bytes, all written)
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, non-zero
 * @trim_flags: RBLK_TRIM_*
 *
 * Context: any.
 */
void rblk_trim_encode(struct rblk_p_trim *p, u64 sector, u32 nr_sectors, u32 trim_flags)
{
	p->sector = cpu_to_be64(sector);
	p->nr_sectors = cpu_to_be32(nr_sectors);
	p->trim_flags = cpu_to_be32(trim_flags);
}

/**
 * rblk_trim_decode() - validate a received TRIM payload
 * @p: the 16 payload bytes as received
 * @size_sectors: device size, 512-byte sectors
 * @logical_block_size_bytes: the negotiated logical block size
 * @info: the request in host order; filled only on success
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if nr_sectors is 0, a flag outside
 * RBLK_TRIM_ALL is set, RBLK_TRIM_NOUNMAP is set without
 * RBLK_TRIM_ZEROES, or the range is not aligned to the logical block
 * size; -ERANGE if the range does not lie wholly inside the device.
 */
int rblk_trim_decode(const struct rblk_p_trim *p, u64 size_sectors,
		     u32 logical_block_size_bytes, struct rblk_trim_info *info)
{
	u64 sector = be64_to_cpu(p->sector);
	u32 nr_sectors = be32_to_cpu(p->nr_sectors);
	u32 trim_flags = be32_to_cpu(p->trim_flags);
	int ret;

	if (nr_sectors == 0)
		return -EINVAL;
	if (trim_flags & ~RBLK_TRIM_ALL)
		return -EINVAL;
	if ((trim_flags & RBLK_TRIM_NOUNMAP) && !(trim_flags & RBLK_TRIM_ZEROES))
		return -EINVAL;
	ret = rblk_range_check(sector, nr_sectors, logical_block_size_bytes, size_sectors);
	if (ret)
		return ret;
	info->sector = sector;
	info->nr_sectors = nr_sectors;
	info->trim_flags = trim_flags;
	return 0;
}

/**
 * rblk_read_encode() - fill a READ payload
 * @p: payload to fill (16 bytes, all written)
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, 1..RBLK_MAX_DATA_BYTES / 512
 *
 * Context: any.
 */
void rblk_read_encode(struct rblk_p_read *p, u64 sector, u32 nr_sectors)
{
	p->sector = cpu_to_be64(sector);
	p->nr_sectors = cpu_to_be32(nr_sectors);
	p->pad = 0;
}

/**
 * rblk_read_decode() - validate a received READ payload
 * @p: the 16 payload bytes as received
 * @size_sectors: device size, 512-byte sectors
 * @logical_block_size_bytes: the negotiated logical block size
 * @info: the request in host order (trim_flags 0); filled only on success
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if nr_sectors is 0 or above
 * RBLK_MAX_DATA_BYTES / 512, pad is not zero, or the range is not aligned
 * to the logical block size; -ERANGE if the range does not lie wholly
 * inside the device.
 */
int rblk_read_decode(const struct rblk_p_read *p, u64 size_sectors,
		     u32 logical_block_size_bytes, struct rblk_trim_info *info)
{
	u64 sector = be64_to_cpu(p->sector);
	u32 nr_sectors = be32_to_cpu(p->nr_sectors);
	int ret;

	if (nr_sectors == 0 || nr_sectors > RBLK_MAX_DATA_BYTES / RBLK_SECTOR_BYTES || p->pad)
		return -EINVAL;
	ret = rblk_range_check(sector, nr_sectors, logical_block_size_bytes, size_sectors);
	if (ret)
		return ret;
	info->sector = sector;
	info->nr_sectors = nr_sectors;
	info->trim_flags = 0;
	return 0;
}

/**
 * rblk_read_reply_encode() - fill a READ_REPLY payload
 * @p: payload to fill (8 bytes, all written)
 * @status: 0 (the data follows) or a negative errno, sent as in
 *	rblk_ack_encode()
 * @data_digest: the data's digest (RBLK_FEAT_DATA_DIGEST, status 0), else 0
 *
 * Context: any.
 */
void rblk_read_reply_encode(struct rblk_p_read_reply *p, int status, u32 data_digest)
{
	if (status < -MAX_ERRNO)
		status = -EIO;
	p->status = cpu_to_be32(status < 0 ? -status : 0);
	p->data_digest = cpu_to_be32(status ? 0 : data_digest);
}

/**
 * rblk_read_reply_decode() - validate a received READ_REPLY payload
 * @p: the 8 payload bytes as received
 * @payload_len_bytes: the header's payload length, already validated by
 *	rblk_hdr_decode()
 * @expected_bytes: data bytes of the READ it answers
 * @digest: RBLK_FEAT_DATA_DIGEST is negotiated
 * @status: set to 0 (the data follows) or the sender's negative errno
 * @data_digest: set to the sender's digest of the data (0 without @digest)
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if the status is above MAX_ERRNO or a
 * failed read or one without @digest carries a digest; -EMSGSIZE if the
 * data that follows is not @expected_bytes for status 0, or not empty
 * for a failed read.
 */
int rblk_read_reply_decode(const struct rblk_p_read_reply *p, u32 payload_len_bytes,
			   u32 expected_bytes, bool digest, int *status, u32 *data_digest)
{
	u32 s = be32_to_cpu(p->status);
	u32 d = be32_to_cpu(p->data_digest);
	u32 data_bytes = payload_len_bytes - sizeof(*p);

	if (s > MAX_ERRNO || (d && (s || !digest)))
		return -EINVAL;
	if (data_bytes != (s ? 0 : expected_bytes))
		return -EMSGSIZE;
	*status = -(int)s;
	*data_digest = d;
	return 0;
}

/**
 * rblk_ack_encode() - fill an ACK or ROLE_REPLY payload
 * @p: payload to fill (8 bytes, all written)
 * @status: 0 or a negative errno (-MAX_ERRNO..-1), sent as its positive
 *	value; below -MAX_ERRNO is sent as EIO, above 0 as 0
 *
 * Context: any.
 */
void rblk_ack_encode(struct rblk_p_ack *p, int status)
{
	if (status < -MAX_ERRNO)
		status = -EIO;
	p->status = cpu_to_be32(status < 0 ? -status : 0);
	p->pad = 0;
}

/**
 * rblk_ack_decode() - validate a received ACK or ROLE_REPLY payload
 * @p: the 8 payload bytes as received
 * @status: 0 or the peer's error as a negative errno; set only on success
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if the status is above MAX_ERRNO or pad is
 * non-zero.
 */
int rblk_ack_decode(const struct rblk_p_ack *p, int *status)
{
	u32 s = be32_to_cpu(p->status);

	if (s > MAX_ERRNO || p->pad)
		return -EINVAL;
	*status = -(int)s;
	return 0;
}

/**
 * rblk_state_encode() - fill a STATE or ROLE_REQ payload
 * @p: payload to fill (8 bytes, all written)
 * @role: sender's role (secondary or primary)
 * @disk_state: sender's disk state
 *
 * Context: any.
 */
void rblk_state_encode(struct rblk_p_state *p, enum rblk_role role,
		       enum rblk_disk_state disk_state)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->disk_state = disk_state;
}

/**
 * rblk_state_decode() - validate a received STATE or ROLE_REQ payload
 * @p: the 8 payload bytes as received
 * @role: sender's role; set only on success
 * @disk_state: sender's disk state; set only on success
 *
 * Context: any.
 *
 * Return: 0 if valid; -EINVAL if role is not secondary/primary, disk_state
 * is not one of diskless/inconsistent/outdated/up_to_date, or pad is
 * non-zero.
 */
int rblk_state_decode(const struct rblk_p_state *p, enum rblk_role *role,
		      enum rblk_disk_state *disk_state)
{
	if (!rblk_own_role_valid(p->role) || !rblk_own_disk_state_valid(p->disk_state))
		return -EINVAL;
	if (memchr_inv(p->pad, 0, sizeof(p->pad)))
		return -EINVAL;
	*role = p->role;
	*disk_state = p->disk_state;
	return 0;
}

/**
 * rblk_uuids_encode() - fill an RBLK_P_UUIDS payload
 * @p: payload, every byte written
 * @v: the sender's generation UUIDs toward the receiver
 * @uuid_flags: RBLK_UF_* beyond those @v gives (RBLK_UF_CLEAR_BITMAP)
 * @oos_bytes: bytes the sender's bitmap holds for the receiver
 *
 * Context: any.
 */
void rblk_uuids_encode(struct rblk_p_uuids *p, const struct rblk_uuid_view *v,
		       u32 uuid_flags, u64 oos_bytes)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->current_uuid = cpu_to_be64(v->current_uuid);
	p->bitmap_uuid = cpu_to_be64(v->bitmap_uuid);
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		p->history_uuids[i] = cpu_to_be64(v->history[i]);
	p->out_of_sync_bytes = cpu_to_be64(oos_bytes);
	p->nodes_behind = cpu_to_be32(v->nodes_behind);
	uuid_flags |= (v->consistent ? RBLK_UF_CONSISTENT : 0) |
		      (v->crashed_primary ? RBLK_UF_CRASHED_PRIMARY : 0) |
		      (v->primary ? RBLK_UF_PRIMARY : 0) |
		      (v->discard_my_data ? RBLK_UF_DISCARD_MY_DATA : 0) |
		      (v->up_to_date ? RBLK_UF_UP_TO_DATE : 0) |
		      (v->reconcile ? RBLK_UF_RECONCILE : 0) |
		      (v->follows_primary ? RBLK_UF_FOLLOWS_PRIMARY : 0);
	p->uuid_flags = cpu_to_be32(uuid_flags);
}

/**
 * rblk_uuids_decode() - check and decode an RBLK_P_UUIDS payload
 * @p: payload
 * @node_id: the sender's node id (for @v)
 * @v: filled on success
 * @uuid_flags: RBLK_UF_* as sent, on success
 * @oos_bytes: the sender's out-of-sync bytes for us, on success
 *
 * Context: any.
 * Return: 0; -EINVAL (unknown flag, nodes behind without
 * RBLK_UF_NEW_CURRENT, a bitmap or history UUID without a current one,
 * out-of-sync bytes not a multiple of 4096).
 */
int rblk_uuids_decode(const struct rblk_p_uuids *p, u32 node_id, struct rblk_uuid_view *v,
		      u32 *uuid_flags, u64 *oos_bytes)
{
	struct rblk_uuid_view d = { .node_id = node_id };
	u32 f = be32_to_cpu(p->uuid_flags);
	u64 oos = be64_to_cpu(p->out_of_sync_bytes);
	unsigned int i;

	d.nodes_behind = be32_to_cpu(p->nodes_behind);
	if (f & ~RBLK_UF_ALL || (d.nodes_behind && !(f & RBLK_UF_NEW_CURRENT)) || oos % 4096)
		return -EINVAL;
	d.current_uuid = be64_to_cpu(p->current_uuid);
	d.bitmap_uuid = be64_to_cpu(p->bitmap_uuid);
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		d.history[i] = be64_to_cpu(p->history_uuids[i]);
	if (!d.current_uuid && (d.bitmap_uuid || d.history[0] || f & RBLK_UF_CONSISTENT))
		return -EINVAL;
	d.consistent = f & RBLK_UF_CONSISTENT;
	d.crashed_primary = f & RBLK_UF_CRASHED_PRIMARY;
	d.primary = f & RBLK_UF_PRIMARY;
	d.discard_my_data = f & RBLK_UF_DISCARD_MY_DATA;
	d.up_to_date = f & RBLK_UF_UP_TO_DATE;
	d.reconcile = f & RBLK_UF_RECONCILE;
	d.follows_primary = f & RBLK_UF_FOLLOWS_PRIMARY;
	if (d.up_to_date && !d.consistent)
		return -EINVAL;
	*v = d;
	*uuid_flags = f;
	*oos_bytes = oos;
	return 0;
}
