// SPDX-License-Identifier: MIT
#include "journal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "jsonlim.h"

static const char *const kind_names[_JOURNAL_KIND_MAX] = {
    [JOURNAL_BEGIN] = "begin", [JOURNAL_INTENT] = "intent", [JOURNAL_DONE] = "done",
    [JOURNAL_FAIL] = "fail",   [JOURNAL_UNDO] = "undo",	    [JOURNAL_UNDONE] = "undone",
    [JOURNAL_PONR] = "ponr",   [JOURNAL_END] = "end",
};

const char *journal_kind_to_string(enum journal_kind k)
{
	if ((unsigned)k >= _JOURNAL_KIND_MAX)
		return "unknown";
	return kind_names[k];
}

bool journal_name_valid(const char *s)
{
	size_t n = strnlen(s, JOURNAL_NAME_MAX);

	if (n == 0 || n >= JOURNAL_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

bool journal_kind_has_step(enum journal_kind k)
{
	return k == JOURNAL_INTENT || k == JOURNAL_DONE || k == JOURNAL_FAIL || k == JOURNAL_UNDO ||
	       k == JOURNAL_UNDONE;
}

/* Identifiers we store must be printable ASCII without quotes/backslash trickery mattering:
 * JSON escapes them, but we still refuse control characters so a journal stays greppable. */
static bool text_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n >= max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool journal_dest_valid(const char *s)
{
	char clean[JOURNAL_DEST_MAX];
	size_t n = strnlen(s, JOURNAL_DEST_MAX);

	if (n == 0 || n >= JOURNAL_DEST_MAX)
		return false;
	/* Printable exactly when sanitizing changes nothing: no C0/C1 controls, valid UTF-8
	 * (which JSON needs, and which a terminal shows as written). */
	str_sanitize(clean, sizeof(clean), s);
	return strcmp(clean, s) == 0;
}

static json_t *spec_to_json(const struct plug_spec *s)
{
	char mac[18];
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "device_id", json_string(s->device_id));
	json_object_set_new(o, "driver", json_string(s->driver));
	json_object_set_new(o, "bus", json_string(s->bus));
	if (s->has_mac)
		json_object_set_new(o, "mac", json_string(format_mac(s->mac, mac)));
	json_object_set_new(
	    o, "backend_kind",
	    json_string(s->backend_kind == PLUG_BACKEND_HOSTDEV ? "hostdev" : "tap"));
	json_object_set_new(o, "backend", json_string(s->backend));
	json_object_set_new(o, "netdev_id", json_string(s->netdev_id));
	json_object_set_new(o, "vlan", json_integer(s->vlan));
	if (s->failover_pair_id[0])
		json_object_set_new(o, "failover_pair_id", json_string(s->failover_pair_id));
	return o;
}

static bool spec_valid(const struct plug_spec *s)
{
	return s->device_id[0] && text_valid(s->device_id, sizeof(s->device_id)) &&
	       text_valid(s->driver, sizeof(s->driver)) && text_valid(s->bus, sizeof(s->bus)) &&
	       text_valid(s->backend, sizeof(s->backend)) &&
	       text_valid(s->netdev_id, sizeof(s->netdev_id)) &&
	       text_valid(s->failover_pair_id, sizeof(s->failover_pair_id)) &&
	       (s->backend_kind == PLUG_BACKEND_TAP || s->backend_kind == PLUG_BACKEND_HOSTDEV) &&
	       s->vlan >= -1 && s->vlan <= 4094;
}

/* A known value is 0..TUNING_MAX; -1 is unknown; at least one must be known. */
#define TUNING_MAX INT64_MAX

static bool tuning_valid(const struct migrate_tuning *t)
{
	if (t->max_bandwidth < -1 || t->max_bandwidth > TUNING_MAX || t->downtime_limit_ms < -1 ||
	    t->downtime_limit_ms > TUNING_MAX)
		return false;
	return t->max_bandwidth >= 0 || t->downtime_limit_ms >= 0;
}

static json_t *more_vfs_to_json(const struct journal_record *r)
{
	json_t *a = json_array();
	char mac[18];

	for (size_t i = 0; a && i < r->n_more_vfs; i++) {
		const struct journal_vf *v = &r->more_vfs[i];
		json_t *o = json_object();

		if (!o)
			break;
		json_object_set_new(o, "name", json_string(v->name));
		json_object_set_new(o, "bond", json_string(v->bond));
		json_object_set_new(o, "vf_mac", json_string(format_mac(v->vf_mac, mac)));
		json_object_set_new(o, "backup_mac", json_string(format_mac(v->backup_mac, mac)));
		if (v->has_dst_mac)
			json_object_set_new(o, "dst_mac", json_string(format_mac(v->dst_mac, mac)));
		json_object_set_new(o, "spec", spec_to_json(&v->spec));
		json_array_append_new(a, o);
	}
	return a;
}

int journal_record_encode(const struct journal_record *r, char *buf, size_t n)
{
	char mac[18];
	json_t *o;
	char *s;
	size_t len;

	if ((unsigned)r->kind >= _JOURNAL_KIND_MAX || r->seq == 0)
		return -EINVAL;
	if (journal_kind_has_step(r->kind) && !journal_name_valid(r->step))
		return -EINVAL;
	if (r->kind == JOURNAL_END && !journal_name_valid(r->outcome))
		return -EINVAL;
	if (r->kind == JOURNAL_BEGIN && (!r->guest[0] || !text_valid(r->guest, sizeof(r->guest)) ||
					 !text_valid(r->bond, sizeof(r->bond))))
		return -EINVAL;
	if (r->kind == JOURNAL_BEGIN && r->dest[0] && !journal_dest_valid(r->dest))
		return -EINVAL;
	if (r->kind == JOURNAL_BEGIN && r->mode[0] && !journal_name_valid(r->mode))
		return -EINVAL;
	if (r->has_spec && !spec_valid(&r->spec))
		return -EINVAL;
	if (r->has_tuning && (r->kind != JOURNAL_INTENT || !tuning_valid(&r->tuning)))
		return -EINVAL;
	if (r->vf >= VFM_VFS_MAX || (r->vf && !journal_kind_has_step(r->kind)) ||
	    r->n_more_vfs > ARRAY_SIZE(r->more_vfs) ||
	    (r->kind != JOURNAL_BEGIN && (r->n_more_vfs || r->vf_name[0])) ||
	    !text_valid(r->vf_name, sizeof(r->vf_name)))
		return -EINVAL;
	for (size_t i = 0; i < r->n_more_vfs; i++) {
		const struct journal_vf *v = &r->more_vfs[i];

		if (!text_valid(v->name, sizeof(v->name)) ||
		    !(v->bond[0] || v->spec.failover_pair_id[0]) ||
		    !text_valid(v->bond, sizeof(v->bond)) || !spec_valid(&v->spec))
			return -EINVAL;
	}

	o = json_object();
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "seq", json_integer(r->seq));
	json_object_set_new(o, "t", json_integer(r->wall_ms));
	json_object_set_new(o, "rec", json_string(kind_names[r->kind]));
	if (journal_kind_has_step(r->kind))
		json_object_set_new(o, "step", json_string(r->step));
	if (r->kind == JOURNAL_BEGIN) {
		json_object_set_new(o, "guest", json_string(r->guest));
		json_object_set_new(o, "bond", json_string(r->bond));
		json_object_set_new(o, "has_vf", json_boolean(r->has_vf));
		json_object_set_new(o, "vf_mac", json_string(format_mac(r->vf_mac, mac)));
		json_object_set_new(o, "backup_mac", json_string(format_mac(r->backup_mac, mac)));
		if (r->has_dst_mac)
			json_object_set_new(o, "dst_mac", json_string(format_mac(r->dst_mac, mac)));
		if (r->dest[0])
			json_object_set_new(o, "dest", json_string(r->dest));
		if (r->mode[0])
			json_object_set_new(o, "mode", json_string(r->mode));
		if (r->vf_name[0])
			json_object_set_new(o, "vf_name", json_string(r->vf_name));
		if (r->n_more_vfs)
			json_object_set_new(o, "vfs", more_vfs_to_json(r));
	}
	if (journal_kind_has_step(r->kind) && r->vf)
		json_object_set_new(o, "vf", json_integer(r->vf));
	if (r->has_spec && (r->kind == JOURNAL_BEGIN || r->kind == JOURNAL_DONE))
		json_object_set_new(o, "spec", spec_to_json(&r->spec));
	if (r->has_tuning) {
		json_t *t = json_object();

		if (r->tuning.max_bandwidth >= 0)
			json_object_set_new(t, "max_bandwidth",
					    json_integer(r->tuning.max_bandwidth));
		if (r->tuning.downtime_limit_ms >= 0)
			json_object_set_new(t, "downtime_limit_ms",
					    json_integer(r->tuning.downtime_limit_ms));
		json_object_set_new(o, "tuning", t);
	}
	if (r->kind == JOURNAL_FAIL) {
		char clean[JOURNAL_MSG_MAX];

		/* The message may carry peer text: keep the journal printable. */
		str_sanitize(clean, sizeof(clean), r->msg);
		json_object_set_new(o, "err", json_integer(r->err));
		json_object_set_new(o, "msg", json_string(clean));
	}
	if (r->kind == JOURNAL_END)
		json_object_set_new(o, "outcome", json_string(r->outcome));

	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	if (len + 2 > n || len + 1 > JOURNAL_LINE_MAX) {
		free(s);
		return -E2BIG;
	}
	memcpy(buf, s, len);
	buf[len++] = '\n';
	buf[len] = '\0';
	free(s);
	return (int)len;
}

static int get_str(json_t *o, const char *key, char *dst, size_t n, bool required, struct diag *d)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v) {
		if (!required)
			return 0;
		diag_set(d, "journal record lacks \"%s\"", key);
		return -EBADMSG;
	}
	if (!json_is_string(v)) {
		diag_set(d, "journal record: \"%s\" is not a string", key);
		return -EBADMSG;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || json_string_length(v) >= n || !text_valid(s, n)) {
		diag_set(d, "journal record: \"%s\" is too long or not text", key);
		return -EBADMSG;
	}
	memcpy(dst, s, json_string_length(v) + 1);
	return 0;
}

static int get_mac(json_t *o, const char *key, uint8_t mac[6], bool *ret_has, struct diag *d)
{
	char s[18];
	int r;

	if (!json_object_get(o, key)) {
		if (ret_has) {
			*ret_has = false;
			return 0;
		}
		diag_set(d, "journal record lacks \"%s\"", key);
		return -EBADMSG;
	}
	r = get_str(o, key, s, sizeof(s), true, d);
	if (r < 0)
		return r;
	if (parse_mac(s, mac) < 0) {
		diag_set(d, "journal record: \"%s\" is not a MAC address", key);
		return -EBADMSG;
	}
	if (ret_has)
		*ret_has = true;
	return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret,
		   struct diag *d)
{
	json_t *v = json_object_get(o, key);

	if (!v || !json_is_integer(v)) {
		diag_set(d, "journal record: \"%s\" missing or not an integer", key);
		return -EBADMSG;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		diag_set(d, "journal record: \"%s\" out of range", key);
		return -EBADMSG;
	}
	*ret = json_integer_value(v);
	return 0;
}

static int only_keys(json_t *o, const char *const *allowed, struct diag *d)
{
	const char *key;
	json_t *v;

	json_object_foreach (o, key, v) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (!*a) {
			char clean[64];

			str_sanitize(clean, sizeof(clean), key);
			diag_set(d, "journal record: unexpected key \"%s\"", clean);
			return -EBADMSG;
		}
	}
	return 0;
}

static int spec_from_json(json_t *o, struct plug_spec *s, struct diag *d)
{
	static const char *const keys[] = {"device_id",	       "driver",  "bus",       "mac",
					   "backend_kind",     "backend", "netdev_id", "vlan",
					   "failover_pair_id", NULL};
	char kind[16];
	int64_t vlan;
	int r;

	if (!json_is_object(o)) {
		diag_set(d, "journal record: \"spec\" is not an object");
		return -EBADMSG;
	}
	memset(s, 0, sizeof(*s));
	if ((r = only_keys(o, keys, d)) < 0 ||
	    (r = get_str(o, "device_id", s->device_id, sizeof(s->device_id), true, d)) < 0 ||
	    (r = get_str(o, "driver", s->driver, sizeof(s->driver), true, d)) < 0 ||
	    (r = get_str(o, "bus", s->bus, sizeof(s->bus), true, d)) < 0 ||
	    (r = get_mac(o, "mac", s->mac, &s->has_mac, d)) < 0 ||
	    (r = get_str(o, "backend_kind", kind, sizeof(kind), true, d)) < 0 ||
	    (r = get_str(o, "backend", s->backend, sizeof(s->backend), true, d)) < 0 ||
	    (r = get_str(o, "netdev_id", s->netdev_id, sizeof(s->netdev_id), true, d)) < 0 ||
	    (r = get_int(o, "vlan", -1, 4094, &vlan, d)) < 0 ||
	    /* Optional: only a failover primary has one. */
	    (r = get_str(o, "failover_pair_id", s->failover_pair_id, sizeof(s->failover_pair_id),
			 false, d)) < 0)
		return r;
	if (strcmp(kind, "tap") == 0)
		s->backend_kind = PLUG_BACKEND_TAP;
	else if (strcmp(kind, "hostdev") == 0)
		s->backend_kind = PLUG_BACKEND_HOSTDEV;
	else {
		diag_set(d, "journal record: unknown backend_kind");
		return -EBADMSG;
	}
	s->vlan = (int)vlan;
	if (!s->device_id[0]) {
		diag_set(d, "journal record: empty device_id");
		return -EBADMSG;
	}
	return 0;
}

static int tuning_from_json(json_t *o, struct migrate_tuning *t, struct diag *d)
{
	static const char *const keys[] = {"max_bandwidth", "downtime_limit_ms", NULL};
	int rc;

	if (!json_is_object(o)) {
		diag_set(d, "journal record: \"tuning\" is not an object");
		return -EBADMSG;
	}
	if ((rc = only_keys(o, keys, d)) < 0)
		return rc;
	t->max_bandwidth = t->downtime_limit_ms = -1;
	if (json_object_get(o, "max_bandwidth") &&
	    (rc = get_int(o, "max_bandwidth", 0, TUNING_MAX, &t->max_bandwidth, d)) < 0)
		return rc;
	if (json_object_get(o, "downtime_limit_ms") &&
	    (rc = get_int(o, "downtime_limit_ms", 0, TUNING_MAX, &t->downtime_limit_ms, d)) < 0)
		return rc;
	if (!tuning_valid(t)) {
		diag_set(d, "journal record: \"tuning\" is empty");
		return -EBADMSG;
	}
	return 0;
}

static int more_vfs_from_json(json_t *a, struct journal_record *r, struct diag *d)
{
	static const char *const keys[] = {"name",    "bond", "vf_mac", "backup_mac",
					   "dst_mac", "spec", NULL};
	size_t i;
	json_t *o;
	int rc;

	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > ARRAY_SIZE(r->more_vfs)) {
		diag_set(d, "journal record: \"vfs\" is not an array of 1 to %zu VFs",
			 ARRAY_SIZE(r->more_vfs));
		return -EBADMSG;
	}
	json_array_foreach (a, i, o) {
		struct journal_vf *v = &r->more_vfs[i];

		if (!json_is_object(o)) {
			diag_set(d, "journal record: a VF of \"vfs\" is not an object");
			return -EBADMSG;
		}
		if ((rc = only_keys(o, keys, d)) < 0 ||
		    (rc = get_str(o, "name", v->name, sizeof(v->name), true, d)) < 0 ||
		    (rc = get_str(o, "bond", v->bond, sizeof(v->bond), true, d)) < 0 ||
		    (rc = get_mac(o, "vf_mac", v->vf_mac, NULL, d)) < 0 ||
		    (rc = get_mac(o, "backup_mac", v->backup_mac, NULL, d)) < 0 ||
		    (rc = get_mac(o, "dst_mac", v->dst_mac, &v->has_dst_mac, d)) < 0)
			return rc;
		if (!json_object_get(o, "spec")) {
			diag_set(d, "journal record: a VF of \"vfs\" lacks \"spec\"");
			return -EBADMSG;
		}
		if ((rc = spec_from_json(json_object_get(o, "spec"), &v->spec, d)) < 0)
			return rc;
		/* A VF goes through its bond, or (failover mode) through its pair. */
		if (!v->bond[0] && !v->spec.failover_pair_id[0]) {
			diag_set(d, "journal record: a VF of \"vfs\" has neither a bond nor a "
				    "failover_pair_id");
			return -EBADMSG;
		}
	}
	r->n_more_vfs = json_array_size(a);
	return 0;
}

int journal_record_decode(const char *line, size_t len, struct journal_record *ret, struct diag *d)
{
	static const char *const keys[] = {
	    "seq",    "t",	    "rec",     "step", "guest",	  "bond",   "has_vf",
	    "vf_mac", "backup_mac", "dst_mac", "dest", "spec",	  "tuning", "err",
	    "msg",    "outcome",    "mode",    "vf",   "vf_name", "vfs",    NULL};
	struct journal_record r = {0};
	json_t *o, *v;
	char kind[JOURNAL_NAME_MAX];
	int64_t x;
	int k, rc;

	o = json_decode_strict(line, len, JOURNAL_LINE_MAX, 4, d);
	if (!o)
		return -EBADMSG;
	if (!json_is_object(o)) {
		diag_set(d, "journal record is not an object");
		rc = -EBADMSG;
		goto out;
	}
	if ((rc = only_keys(o, keys, d)) < 0 ||
	    (rc = get_int(o, "seq", 1, JOURNAL_RECORDS_MAX, &x, d)) < 0)
		goto out;
	r.seq = (uint32_t)x;
	if ((rc = get_int(o, "t", 0, INT64_MAX, &r.wall_ms, d)) < 0 ||
	    (rc = get_str(o, "rec", kind, sizeof(kind), true, d)) < 0)
		goto out;
	for (k = 0; k < _JOURNAL_KIND_MAX; k++)
		if (strcmp(kind, kind_names[k]) == 0)
			break;
	if (k == _JOURNAL_KIND_MAX) {
		diag_set(d, "journal record: unknown \"rec\"");
		rc = -EBADMSG;
		goto out;
	}
	r.kind = (enum journal_kind)k;

	/* Each kind carries exactly its own keys. */
	if (journal_kind_has_step(r.kind)) {
		if ((rc = get_str(o, "step", r.step, sizeof(r.step), true, d)) < 0)
			goto out;
		if (!journal_name_valid(r.step)) {
			diag_set(d, "journal record: bad step name");
			rc = -EBADMSG;
			goto out;
		}
		if (json_object_get(o, "vf")) {
			if ((rc = get_int(o, "vf", 0, VFM_VFS_MAX - 1, &x, d)) < 0)
				goto out;
			r.vf = (unsigned)x;
		}
	} else if (json_object_get(o, "step") || json_object_get(o, "vf")) {
		diag_set(d, "journal record: \"step\" or \"vf\" on a %s record", kind);
		rc = -EBADMSG;
		goto out;
	}
	if (r.kind == JOURNAL_BEGIN) {
		if ((rc = get_str(o, "guest", r.guest, sizeof(r.guest), true, d)) < 0 ||
		    (rc = get_str(o, "bond", r.bond, sizeof(r.bond), true, d)) < 0 ||
		    (rc = get_mac(o, "vf_mac", r.vf_mac, NULL, d)) < 0 ||
		    (rc = get_mac(o, "backup_mac", r.backup_mac, NULL, d)) < 0 ||
		    (rc = get_mac(o, "dst_mac", r.dst_mac, &r.has_dst_mac, d)) < 0)
			goto out;
		v = json_object_get(o, "has_vf");
		if (!json_is_boolean(v)) {
			diag_set(d, "journal record: \"has_vf\" missing or not a boolean");
			rc = -EBADMSG;
			goto out;
		}
		r.has_vf = json_is_true(v);
		if (!r.guest[0]) {
			diag_set(d, "journal record: empty guest");
			rc = -EBADMSG;
			goto out;
		}
		/* Optional: journals written before it existed have no "dest". */
		if ((rc = get_str(o, "dest", r.dest, sizeof(r.dest), false, d)) < 0)
			goto out;
		if (json_object_get(o, "dest") && !journal_dest_valid(r.dest)) {
			diag_set(d, "journal record: \"dest\" is empty or not printable");
			rc = -EBADMSG;
			goto out;
		}
		/* Optional: bond mode's journals (and older ones) have no "mode". */
		if ((rc = get_str(o, "mode", r.mode, sizeof(r.mode), false, d)) < 0)
			goto out;
		if (json_object_get(o, "mode") && strcmp(r.mode, "failover") != 0) {
			diag_set(d, "journal record: unknown \"mode\"");
			rc = -EBADMSG;
			goto out;
		}
		/* Optional: single-VF journals have neither. */
		if ((rc = get_str(o, "vf_name", r.vf_name, sizeof(r.vf_name), false, d)) < 0)
			goto out;
		if (json_object_get(o, "vfs") &&
		    (rc = more_vfs_from_json(json_object_get(o, "vfs"), &r, d)) < 0)
			goto out;
	} else {
		static const char *const begin_only[] = {
		    "guest",   "bond", "has_vf", "vf_mac",  "backup_mac",
		    "dst_mac", "dest", "mode",	 "vf_name", "vfs"};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(begin_only); i++)
			if (json_object_get(o, begin_only[i])) {
				diag_set(d, "journal record: \"%s\" on a %s record", begin_only[i],
					 kind);
				rc = -EBADMSG;
				goto out;
			}
	}
	v = json_object_get(o, "spec");
	if (v) {
		if (r.kind != JOURNAL_BEGIN && r.kind != JOURNAL_DONE) {
			diag_set(d, "journal record: \"spec\" on a %s record", kind);
			rc = -EBADMSG;
			goto out;
		}
		if ((rc = spec_from_json(v, &r.spec, d)) < 0)
			goto out;
		r.has_spec = true;
	}
	v = json_object_get(o, "tuning");
	if (v) {
		if (r.kind != JOURNAL_INTENT) {
			diag_set(d, "journal record: \"tuning\" on a %s record", kind);
			rc = -EBADMSG;
			goto out;
		}
		if ((rc = tuning_from_json(v, &r.tuning, d)) < 0)
			goto out;
		r.has_tuning = true;
	}
	if (r.kind == JOURNAL_FAIL) {
		if ((rc = get_int(o, "err", 0, 4095, &x, d)) < 0 ||
		    (rc = get_str(o, "msg", r.msg, sizeof(r.msg), true, d)) < 0)
			goto out;
		r.err = (int)x;
	} else if (json_object_get(o, "err") || json_object_get(o, "msg")) {
		diag_set(d, "journal record: \"err\"/\"msg\" on a %s record", kind);
		rc = -EBADMSG;
		goto out;
	}
	if (r.kind == JOURNAL_END) {
		if ((rc = get_str(o, "outcome", r.outcome, sizeof(r.outcome), true, d)) < 0)
			goto out;
		if (!journal_name_valid(r.outcome)) {
			diag_set(d, "journal record: bad outcome word");
			rc = -EBADMSG;
			goto out;
		}
	} else if (json_object_get(o, "outcome")) {
		diag_set(d, "journal record: \"outcome\" on a %s record", kind);
		rc = -EBADMSG;
		goto out;
	}
	*ret = r;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* How many '\n' buf holds, counting up to max. */
static size_t count_lines(const char *buf, size_t len, size_t max)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (n < max && p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

int journal_parse(const char *buf, size_t len, struct journal_record **ret_recs, size_t *ret_n,
		  bool *ret_torn, struct diag *d)
{
	struct journal_record *recs;
	size_t n = 0, off = 0, cap = 0;
	bool torn = false;

	if (len > JOURNAL_FILE_MAX) {
		diag_set(d, "journal of %zu bytes exceeds the limit of %d", len, JOURNAL_FILE_MAX);
		return -EFBIG;
	}
	/* Room for one record per complete line, up to the limit (checked again below). */
	cap = count_lines(buf, len, JOURNAL_RECORDS_MAX);
	recs = calloc(cap ? cap : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l;
		int r;

		if (!nl) {
			torn = true;
			break;
		}
		l = (size_t)(nl - (buf + off));
		if (n == JOURNAL_RECORDS_MAX) {
			diag_set(d, "journal has more than %d records", JOURNAL_RECORDS_MAX);
			free(recs);
			return -EFBIG;
		}
		r = journal_record_decode(buf + off, l, &recs[n], d);
		if (r < 0) {
			diag_prefix(d, "journal line %zu", n + 1);
			free(recs);
			return r;
		}
		if (recs[n].seq != n + 1 || (n == 0) != (recs[n].kind == JOURNAL_BEGIN)) {
			diag_set(d, "journal line %zu: out of sequence", n + 1);
			free(recs);
			return -EBADMSG;
		}
		n++;
		off += l + 1;
	}
	if (n == 0) {
		diag_set(d, "journal is empty");
		free(recs);
		return -ENODATA;
	}
	*ret_recs = recs;
	*ret_n = n;
	if (ret_torn)
		*ret_torn = torn;
	return 0;
}
