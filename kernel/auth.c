// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - peer authentication with the resource's shared secret.
 *
 * When both HELLOs offer RBLK_FEAT_AUTH, each side sends a fresh random
 * challenge (RBLK_P_AUTH_CHALLENGE) and answers the other's with
 * HMAC-SHA256(secret, struct rblk_auth_input) (RBLK_P_AUTH_RESPONSE); the
 * input binds the challenge to the responder's and the verifier's node
 * ids and to the cluster and resource, so that an answer is good for one
 * handshake in one direction only.  Nothing else of the peer's HELLO is
 * acted on before both answers are checked.  The secret never leaves the
 * device except into the HMAC's key; copies are wiped when freed.
 *
 * Contexts: rblk_auth_tfm_alloc(), rblk_auth_answer() and
 * rblk_auth_verify() may sleep (process context); rblk_auth_exchange()
 * runs in conn_work.
 */

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/err.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "rblk_int.h"

/**
 * rblk_auth_tfm_alloc() - an HMAC-SHA256 transform keyed with a secret
 * @secret: the shared secret
 * @secret_len: bytes in @secret, 1..RBLK_AUTH_SECRET_MAX_BYTES
 *
 * The caller frees it with crypto_free_shash(), which wipes the key.
 *
 * Context: process context, may sleep (GFP_KERNEL).
 *
 * Return: the transform; ERR_PTR(-ENOENT) when the kernel has no
 * "hmac(sha256)"; ERR_PTR(-ENOMEM); ERR_PTR(-EINVAL) when
 * @secret_len is 0 or above RBLK_AUTH_SECRET_MAX_BYTES; any other error of
 * crypto_shash_setkey().
 */
struct crypto_shash *rblk_auth_tfm_alloc(const u8 *secret, u32 secret_len)
{
	struct crypto_shash *tfm;
	int ret;

	if (!secret_len || secret_len > RBLK_AUTH_SECRET_MAX_BYTES)
		return ERR_PTR(-EINVAL);
	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return tfm;
	ret = crypto_shash_setkey(tfm, secret, secret_len);
	if (ret) {
		crypto_free_shash(tfm);
		return ERR_PTR(ret);
	}
	return tfm;
}

/**
 * rblk_auth_answer() - the answer to a challenge
 * @tfm: from rblk_auth_tfm_alloc()
 * @in: the message, from rblk_auth_input_build()
 * @response: RBLK_AUTH_RESPONSE_BYTES bytes, filled on success
 *
 * Context: process context, may sleep.
 *
 * Return: 0, or the error of crypto_shash_tfm_digest().
 */
int rblk_auth_answer(struct crypto_shash *tfm, const struct rblk_auth_input *in,
		     u8 *response)
{
	BUILD_BUG_ON(RBLK_AUTH_RESPONSE_BYTES != 32);	/* SHA-256 */
	if (WARN_ON_ONCE(crypto_shash_digestsize(tfm) != RBLK_AUTH_RESPONSE_BYTES))
		return -EINVAL;
	return crypto_shash_tfm_digest(tfm, (const u8 *)in, sizeof(*in), response);
}

/**
 * rblk_auth_verify() - check the peer's answer to our challenge
 * @tfm: from rblk_auth_tfm_alloc()
 * @in: the message the peer should have answered: our challenge, the
 *	peer as responder, this node as verifier
 * @response: the peer's RBLK_AUTH_RESPONSE_BYTES bytes
 *
 * Compares in constant time (crypto_memneq()).
 *
 * Context: process context, may sleep.
 *
 * Return: 0 when the answer is right; -EACCES when it is wrong; the
 * error of crypto_shash_tfm_digest().
 */
int rblk_auth_verify(struct crypto_shash *tfm, const struct rblk_auth_input *in,
		     const u8 *response)
{
	u8 expected[RBLK_AUTH_RESPONSE_BYTES];
	int ret;

	ret = rblk_auth_answer(tfm, in, expected);
	if (!ret && crypto_memneq(expected, response, sizeof(expected)))
		ret = -EACCES;
	memzero_explicit(expected, sizeof(expected));
	return ret;
}

struct rblk_auth_pkt {
	struct rblk_hdr hdr;
	union {
		struct rblk_p_auth_challenge chal;
		struct rblk_p_auth_response resp;
		struct rblk_p_reject rej;
	};
};

/* Refuse the handshake: tell the peer why, log it once. */
static void rblk_auth_refuse(struct rblk_peer *peer, struct socket *sock, u32 reason,
			     const char *why)
{
	rblk_send_reject(sock, reason, why);
	rblk_log_refusal(peer, reason, false, why);
}

/*
 * Receive the next handshake packet, which must be @command with a
 * payload of @len bytes, into @pkt.  A refusal of the peer is logged.
 * 0, -ECONNREFUSED (refused by the peer), -EPROTO (refused by us:
 * something else came), socket errors.
 */
static int rblk_auth_recv(struct rblk_peer *peer, struct socket *sock,
			  struct rblk_auth_pkt *pkt, u8 command, size_t len)
{
	struct rblk_hdr_info info;
	char message[sizeof(pkt->rej.message)];
	u32 reason;
	int ret;

	ret = rblk_recv_all(sock, &pkt->hdr, sizeof(pkt->hdr));
	if (ret)
		return ret;
	ret = rblk_hdr_decode(&pkt->hdr, RBLK_PROTO_VERSION_MIN, &info);
	if (!ret && info.command == RBLK_P_HELLO_REJECT) {
		ret = rblk_recv_all(sock, &pkt->rej, sizeof(pkt->rej));
		if (ret)
			return ret;
		if (rblk_reject_decode(&pkt->rej, &reason, message)) {
			reason = RBLK_REJECT_MALFORMED;
			strscpy(message, "malformed refusal", sizeof(message));
		}
		rblk_log_unauthenticated_refusal(peer, reason, message);
		return -ECONNREFUSED;
	}
	if (ret || info.command != command) {
		rblk_auth_refuse(peer, sock, RBLK_REJECT_MALFORMED,
				 command == RBLK_P_AUTH_CHALLENGE ? "expected AUTH_CHALLENGE" :
				 "expected AUTH_RESPONSE");
		return -EPROTO;
	}
	return rblk_recv_all(sock, &pkt->chal, len);
}

/* Send our answer to the peer's challenge @theirs (pkt, in: scratch). */
static int rblk_auth_send_answer(struct crypto_shash *tfm, struct socket *sock,
				 struct rblk_auth_pkt *pkt, struct rblk_auth_input *in,
				 const u8 *theirs, u32 us, u32 them,
				 const struct rblk_device *dev)
{
	int ret;

	rblk_auth_input_build(in, theirs, us, them, dev->cluster_name, dev->resource_name);
	rblk_hdr_encode(&pkt->hdr, RBLK_PROTO_VERSION_MIN, RBLK_P_AUTH_RESPONSE, 0,
			sizeof(pkt->resp), 0);
	ret = rblk_auth_answer(tfm, in, pkt->resp.hmac);
	if (ret)
		return ret;
	return rblk_send_all(sock, pkt, sizeof(pkt->hdr) + sizeof(pkt->resp));
}

/**
 * rblk_auth_exchange() - prove the secret both ways in the handshake
 * @peer: peer
 * @sock: the socket, right after a HELLO exchange in which both sides
 *	offered RBLK_FEAT_AUTH
 * @key: this node's secret (non-empty), copied when its HELLO was built
 *
 * Sends a fresh RBLK_AUTH_CHALLENGE_BYTES random challenge, answers the
 * peer's, and checks the peer's answer to ours.  The connecting side (the
 * lower node id) answers first; the listening side answers only after the
 * connecting side's answer proved the secret.  The answers bind this
 * node's configured node id and the peer's (never what the peer claims),
 * the cluster and the resource.  A peer that sends our own challenge back
 * is refused before anything is answered.  A refusal is sent to the peer
 * as HELLO_REJECT (RBLK_REJECT_AUTH_FAILED, or RBLK_REJECT_MALFORMED for a
 * packet out of place) and logged once per reason (rblk_log_refusal()),
 * which also makes it the peer's last error.
 *
 * Context: conn_work, sleeps (blocking socket I/O with the handshake's
 * timeouts, crypto).
 * Return: 0 when the peer proved the secret; -ECONNREFUSED when either
 * side refused (wrong answer, reflected challenge, a refusal by the peer);
 * -EPROTO when the peer sent another packet; -ENOMEM; -ENOENT when the
 * kernel has no hmac(sha256); socket errors (-ETIMEDOUT on a timeout, ...).
 */
int rblk_auth_exchange(struct rblk_peer *peer, struct socket *sock,
		       const struct rblk_auth_key *key)
{
	struct rblk_device *dev = peer->dev;
	u32 us = dev->node_id, them = peer->cfg.node_id;
	bool listening = us > them;	/* conn.c: the higher node id listens */
	u8 ours[RBLK_AUTH_CHALLENGE_BYTES], theirs[RBLK_AUTH_CHALLENGE_BYTES];
	struct rblk_auth_input *in;
	struct rblk_auth_pkt *pkt;
	struct crypto_shash *tfm;
	int ret;

	tfm = rblk_auth_tfm_alloc(key->secret, key->len);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	pkt = kzalloc(sizeof(*pkt), GFP_KERNEL);
	in = kzalloc(sizeof(*in), GFP_KERNEL);
	if (!pkt || !in) {
		ret = -ENOMEM;
		goto out;
	}

	get_random_bytes(ours, sizeof(ours));
	rblk_hdr_encode(&pkt->hdr, RBLK_PROTO_VERSION_MIN, RBLK_P_AUTH_CHALLENGE, 0,
			sizeof(pkt->chal), 0);
	memcpy(pkt->chal.challenge, ours, sizeof(ours));
	ret = rblk_send_all(sock, pkt, sizeof(pkt->hdr) + sizeof(pkt->chal));
	if (ret)
		goto out;

	ret = rblk_auth_recv(peer, sock, pkt, RBLK_P_AUTH_CHALLENGE, sizeof(pkt->chal));
	if (ret)
		goto out;
	if (!crypto_memneq(pkt->chal.challenge, ours, sizeof(ours))) {
		rblk_auth_refuse(peer, sock, RBLK_REJECT_AUTH_FAILED,
				 "authentication failed: our challenge came back");
		ret = -ECONNREFUSED;
		goto out;
	}
	memcpy(theirs, pkt->chal.challenge, sizeof(theirs));
	/*
	 * The connecting side answers first; the listening side answers only
	 * a peer that proved the secret, so that whoever connects to us gets
	 * no answer of ours to attack offline.
	 */
	if (!listening) {
		ret = rblk_auth_send_answer(tfm, sock, pkt, in, theirs, us, them, dev);
		if (ret)
			goto out;
	}
	ret = rblk_auth_recv(peer, sock, pkt, RBLK_P_AUTH_RESPONSE, sizeof(pkt->resp));
	if (ret)
		goto out;
	rblk_auth_input_build(in, ours, them, us, dev->cluster_name, dev->resource_name);
	ret = rblk_auth_verify(tfm, in, pkt->resp.hmac);
	if (ret == -EACCES) {
		rblk_auth_refuse(peer, sock, RBLK_REJECT_AUTH_FAILED,
				 "authentication failed: wrong answer");
		ret = -ECONNREFUSED;
	}
	if (!ret && listening)
		ret = rblk_auth_send_answer(tfm, sock, pkt, in, theirs, us, them, dev);
out:
	kfree_sensitive(in);
	kfree_sensitive(pkt);
	crypto_free_shash(tfm);
	return ret;
}
