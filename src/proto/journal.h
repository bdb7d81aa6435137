/* SPDX-License-Identifier: MIT */
/*
 * Journal records: one JSON object per line, append-only, one file per guest. No I/O here
 * (src/io/journal_file.c writes and fsyncs; src/core/plan.c decides what to record and how
 * to recover from it).
 *
 *   {"seq":1,"t":1700000000000,"rec":"begin","guest":"g1","bond":"bond0","has_vf":true,
 *    "vf_mac":"..","backup_mac":"..","dst_mac":"..","dest":"qemu+ssh://h2/system",
 *    "spec":{...}}
 *   {"seq":2,"t":..,"rec":"intent","step":"unplug"}      before the side effect
 *   {"seq":3,"t":..,"rec":"intent","step":"unplug","vf":1}   the same for the guest's 2nd VF
 *
 * A guest with several VFs: BEGIN holds the first one where a single-VF journal holds it (and
 * its name in "vf_name"), the others in "vfs":[{"name":..,"bond":..,"vf_mac":..,
 * "backup_mac":..,"dst_mac":..,"spec":{...}}]; a step record of one of those names it by its
 * index ("vf", 1..); a record without "vf" is of the first VF (or of no VF: migrate).
 * In failover mode ("mode":"failover") a VF has no bond ("") and its "spec" carries its own
 * "failover_pair_id" (the first VF's in BEGIN's "spec").
 *   {"seq":8,"t":..,"rec":"intent","step":"migrate","tuning":{"max_bandwidth":134217728,
 *    "downtime_limit_ms":300}}   the source's tuning before it was changed
 *   {"seq":3,"t":..,"rec":"done","step":"reserve","spec":{...}}   after it, with what to undo
 *   {"seq":4,"t":..,"rec":"fail","step":"unplug","err":110,"msg":"..."}
 *   {"seq":5,"t":..,"rec":"undo","step":"unplug"} / "undone"
 *   {"seq":9,"t":..,"rec":"ponr"}                        migration completed, guest alive
 *   {"seq":12,"t":..,"rec":"end","outcome":"migrated"}   the journal is finished
 */
#ifndef VFM_PROTO_JOURNAL_H
#define VFM_PROTO_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/vfm.h"
#include "../util/util.h"

#define JOURNAL_LINE_MAX    4096 /* one encoded record, with its newline */
#define JOURNAL_RECORDS_MAX 512
#define JOURNAL_FILE_MAX    (JOURNAL_LINE_MAX * JOURNAL_RECORDS_MAX)
#define JOURNAL_NAME_MAX    32 /* step and outcome words */
#define JOURNAL_MSG_MAX	    256
#define JOURNAL_DEST_MAX    VFM_URI_MAX

enum journal_kind {
	JOURNAL_BEGIN = 0,
	JOURNAL_INTENT,
	JOURNAL_DONE,
	JOURNAL_FAIL,
	JOURNAL_UNDO,
	JOURNAL_UNDONE,
	JOURNAL_PONR,
	JOURNAL_END,
	_JOURNAL_KIND_MAX,
};

const char *journal_kind_to_string(enum journal_kind k);
/* Whether records of this kind name a step (and may name a VF): intent, done, fail, undo,
 * undone. */
bool journal_kind_has_step(enum journal_kind k);

/* BEGIN: one more VF of the guest (the first is in the record's own fields). */
struct journal_vf {
	char name[VFM_ID_MAX];
	char bond[VFM_IFNAME_MAX];
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	bool has_dst_mac;
	uint8_t dst_mac[6];
	struct plug_spec spec; /* as plugged on the source */
};

struct journal_record {
	uint32_t seq;	 /* 1, 2, 3, ... within one file */
	int64_t wall_ms; /* wall clock, informational */
	enum journal_kind kind;
	char step[JOURNAL_NAME_MAX]; /* INTENT, DONE, FAIL, UNDO, UNDONE */
	/* INTENT, DONE, FAIL, UNDO, UNDONE: which VF (0 = the first, or no VF), < VFM_VFS_MAX. */
	unsigned vf;
	/* BEGIN */
	char guest[VFM_ID_MAX];
	char bond[VFM_IFNAME_MAX];
	bool has_vf;
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	/* The destination as the operator named it (libvirt URI, QMP migration URI), so recover
	 * finds it again. Optional: "" = not recorded (older journals, or none named). */
	char dest[JOURNAL_DEST_MAX];
	/* The MAC the destination VF is given (vf_mac, or the bond's own under the MAC model).
	 * Optional: older journals have none, and gave it vf_mac. */
	bool has_dst_mac;
	uint8_t dst_mac[6];
	/* "failover" for a failover mode run; "" (no key): bond mode. */
	char mode[JOURNAL_NAME_MAX];
	/* The first VF's name (optional, "" = none) and the guest's other VFs (VF 1, 2, ...). */
	char vf_name[VFM_ID_MAX];
	size_t n_more_vfs;
	struct journal_vf more_vfs[VFM_VFS_MAX - 1];
	/* BEGIN: the source VF as it was plugged; DONE of a step that took a VF: that VF. */
	bool has_spec;
	struct plug_spec spec;
	/* INTENT of "migrate": the source's migration tuning before vfmigrate changed it. */
	bool has_tuning;
	struct migrate_tuning tuning; /* -1 = unknown */
	/* FAIL */
	int err; /* positive errno */
	char msg[JOURNAL_MSG_MAX];
	/* END */
	char outcome[JOURNAL_NAME_MAX];
};

/*
 * Encodes one record as a JSON line ending in '\n' into buf (size n). Returns the length
 * (without NUL) or -E2BIG / -EINVAL (a field the decoder would reject).
 */
int journal_record_encode(const struct journal_record *r, char *buf, size_t n);

/* Decodes one line (without its '\n'); strict: unknown keys, wrong types, bad words or
 * over-long strings are errors. */
int journal_record_decode(const char *line, size_t len, struct journal_record *ret, struct diag *d);

/*
 * Parses a whole journal file. The first record must be BEGIN, seq must count 1, 2, 3...
 * A last line without its '\n' (a write torn by a crash) is ignored and *ret_torn set.
 * On success *ret_recs is a malloc'd array of *ret_n records (caller frees).
 */
int journal_parse(const char *buf, size_t len, struct journal_record **ret_recs, size_t *ret_n,
		  bool *ret_torn, struct diag *d);

/* Names are [a-z0-9_-]{1,31}. */
bool journal_name_valid(const char *s);

/* A destination the journal can hold: 1..JOURNAL_DEST_MAX-1 bytes of printable text (valid
 * UTF-8, no control characters). */
bool journal_dest_valid(const char *s);

#endif
