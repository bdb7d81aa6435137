// SPDX-License-Identifier: MIT
#include "hv_qmp_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int hv_qmp_new(const struct hv_qmp_options *o, struct hv_qmp **ret, struct diag *d)
{
	struct hv_qmp *h = calloc(1, sizeof(*h));

	if (!h) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	h->o = *o;
	h->o.socket_path[sizeof(h->o.socket_path) - 1] = '\0';
	h->o.announce_nic[sizeof(h->o.announce_nic) - 1] = '\0';
	if (h->o.progress_interval_ms <= 0)
		h->o.progress_interval_ms = 250;
	if (h->o.stats_settle_ms <= 0)
		h->o.stats_settle_ms = 2000;
	*ret = h;
	return 0;
}

struct hv_qmp *hv_qmp_free(struct hv_qmp *h)
{
	if (!h)
		return NULL;
	qmp_client_free(h->c);
	free(h);
	return NULL;
}

void hv_qmp_attach(struct hv_qmp *h, struct qmp_client *c)
{
	qmp_client_free(h->c);
	h->c = c;
	h->gen++;
}

int hv_qmp_netdev_id(const struct plug_spec *spec, char ret[VFM_ID_MAX])
{
	int n;

	if (spec->netdev_id[0]) {
		n = snprintf(ret, VFM_ID_MAX, "%s", spec->netdev_id);
	} else {
		char tmp[VFM_ID_MAX];

		n = snprintf(tmp, sizeof(tmp), "nd-%s", spec->device_id);
		if (n >= 0 && n < VFM_ID_MAX)
			memcpy(ret, tmp, (size_t)n + 1);
	}
	return (n < 0 || n >= VFM_ID_MAX) ? -E2BIG : 0;
}

static int hv_conn(struct hv_qmp *h, int64_t deadline_ms, struct diag *d)
{
	int r;

	if (h->c && !qmp_client_is_broken(h->c))
		return 0;
	h->c = qmp_client_free(h->c);
	if (!h->o.socket_path[0]) {
		diag_set(d, "QMP connection lost and no socket path to reconnect to");
		return -ENOTCONN;
	}
	r = qmp_client_connect(h->o.socket_path, deadline_ms, &h->c, d);
	if (r < 0) {
		diag_prefix(d, "QMP %s", h->o.socket_path);
		return r;
	}
	h->gen++;
	return 0;
}

int hv_qmp_exec(struct hv_qmp *h, const char *cmd, json_t *args, int64_t deadline_ms, json_t **ret,
		struct diag *d)
{
	int r = hv_conn(h, deadline_ms, d);

	if (r < 0)
		return r;
	return qmp_client_execute(h->c, cmd, args, deadline_ms, ret, d);
}

int hv_qmp_exec_new(struct hv_qmp *h, const char *cmd, json_t *args, int64_t deadline_ms,
		    json_t **ret, struct diag *d)
{
	int r;

	if (!args) {
		diag_set(d, "%s: out of memory", cmd);
		return -ENOMEM;
	}
	r = hv_qmp_exec(h, cmd, args, deadline_ms, ret, d);
	json_decref(args);
	return r;
}

bool hv_qmp_error_class_is(struct hv_qmp *h, const char *cls)
{
	return h->c && strcmp(qmp_client_last_error_class(h->c), cls) == 0;
}

static bool never_match(const struct qmp_event *ev, void *userdata)
{
	(void)ev;
	(void)userdata;
	return false;
}

/* Waits on the socket (queueing events) until until_ms; for a bounded re-poll. */
static int hv_pause(struct hv_qmp *h, int64_t until_ms, struct diag *d)
{
	int r = qmp_client_wait_event(h->c, NULL, never_match, NULL, until_ms, NULL, d);

	return r == -ETIMEDOUT ? 0 : r;
}

int hv_qmp_copy_str(char *dst, size_t n, const char *src, const char *what, struct diag *d)
{
	if (strlen(src) >= n) {
		diag_set(d, "%s from QEMU is too long", what);
		return -E2BIG;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int hv_probe(void *ud, int64_t deadline_ms, struct hv_probe *ret_probe, struct diag *d)
{
	struct hv_qmp *h = ud;
	struct hv_probe p = {0};
	json_t *ret = NULL, *status, *running;
	int r;

	r = hv_qmp_exec(h, "query-status", NULL, deadline_ms, &ret, d);
	if (r < 0)
		return r;
	status = json_object_get(ret, "status");
	running = json_object_get(ret, "running");
	if (!json_is_string(status) || !json_is_boolean(running)) {
		json_decref(ret);
		diag_set(d, "query-status: malformed reply");
		return -EPROTO;
	}
	r = hv_qmp_copy_str(p.status, sizeof(p.status), json_string_value(status), "run state", d);
	p.running = json_is_true(running);
	json_decref(ret);
	if (r < 0)
		return r;
	if (strcmp(p.status, "inmigrate") == 0)
		p.incoming = (h->o.incoming_deferred && !h->incoming_started)
				 ? HV_INCOMING_DEFERRED
				 : HV_INCOMING_LISTENING;
	*ret_probe = p;
	return 0;
}

static int hv_device_present(void *ud, const char *device_id, int64_t deadline_ms,
			     bool *ret_present, struct diag *d)
{
	struct hv_qmp *h = ud;
	json_t *ret = NULL, *e;
	bool found = false;
	size_t i;
	int r;

	r = hv_qmp_exec_new(h, "qom-list", json_pack("{ss}", "path", "/machine/peripheral"),
			    deadline_ms, &ret, d);
	if (r < 0)
		return r;
	if (!json_is_array(ret)) {
		json_decref(ret);
		diag_set(d, "qom-list: malformed reply");
		return -EPROTO;
	}
	json_array_foreach (ret, i, e) {
		json_t *name = json_object_get(e, "name"), *type = json_object_get(e, "type");

		if (json_is_string(name) && json_is_string(type) &&
		    strncmp(json_string_value(type), "child<", 6) == 0 &&
		    strcmp(json_string_value(name), device_id) == 0)
			found = true;
	}
	json_decref(ret);
	*ret_present = found;
	return 0;
}

static bool event_device_is(const struct qmp_event *ev, const char *id)
{
	json_t *dev = json_object_get(ev->data, "device");

	return json_is_string(dev) && strcmp(json_string_value(dev), id) == 0;
}

/*
 * ACPI _OST for an eject (source 3) that the guest failed: 1 = generic failure, 0x80-0x83 =
 * not supported, in use, busy, dependency busy (ACPI 6.x, 6.3.5). 0x84 means "in progress".
 */
static bool ost_eject_failed(const struct qmp_event *ev, const char *id)
{
	json_t *info = json_object_get(ev->data, "info"), *dev, *src, *st;
	json_int_t s;

	if (!json_is_object(info))
		return false;
	dev = json_object_get(info, "device");
	src = json_object_get(info, "source");
	st = json_object_get(info, "status");
	if (!json_is_string(dev) || strcmp(json_string_value(dev), id) != 0 ||
	    !json_is_integer(src) || !json_is_integer(st))
		return false;
	s = json_integer_value(st);
	return json_integer_value(src) == 3 && (s == 1 || (s >= 0x80 && s <= 0x83));
}

static bool match_unplug(const struct qmp_event *ev, void *userdata)
{
	const char *id = userdata;

	if (strcmp(ev->name, "DEVICE_DELETED") == 0 ||
	    strcmp(ev->name, "DEVICE_UNPLUG_GUEST_ERROR") == 0)
		return event_device_is(ev, id);
	if (strcmp(ev->name, "ACPI_DEVICE_OST") == 0)
		return ost_eject_failed(ev, id);
	return false;
}

static int hv_netdev_del(struct hv_qmp *h, const struct plug_spec *spec, int64_t deadline_ms,
			 struct diag *d)
{
	struct diag tmp = {{0}};
	char nd[VFM_ID_MAX];
	int r;

	if (spec->backend_kind != PLUG_BACKEND_TAP)
		return 0;
	r = hv_qmp_netdev_id(spec, nd);
	if (r < 0) {
		diag_set(d, "netdev id for %s too long", spec->device_id);
		return r;
	}
	r = hv_qmp_exec_new(h, "netdev_del", json_pack("{ss}", "id", nd), deadline_ms, NULL, &tmp);
	/* Already gone: QEMU 7.2 and 10 both say DeviceNotFound. */
	if (r == -EREMOTEIO && hv_qmp_error_class_is(h, "DeviceNotFound"))
		return 0;
	if (r < 0)
		diag_set(d, "%s", tmp.msg);
	return r;
}

/*
 * device_del said GenericError. QEMU says that for a removal already pending (a second
 * device_del, as recover sends after a run killed mid-unplug), and for a device or a time that
 * does not allow one (not hot-pluggable, a migration running). Only its text tells them apart,
 * and a text is not an interface: ask the machine instead. The device gone: -ENOENT. It cannot
 * be hot-unplugged, or a migration runs: the refusal stands (-EREMOTEIO). Otherwise a removal
 * is pending: 0, and unplug_wait waits for it within its deadline; the refusal's text is kept
 * for the message should that removal never come.
 */
static int unplug_refused(struct hv_qmp *h, const char *device_id, int64_t deadline_ms,
			  struct diag *refusal)
{
	struct qmp_migration_info mi;
	struct diag tmp = {{0}};
	char path[sizeof("/machine/peripheral/") + VFM_ID_MAX];
	json_t *hot = NULL;
	bool present = true;
	int r;

	r = hv_device_present(h, device_id, deadline_ms, &present, &tmp);
	if (r < 0)
		return -EREMOTEIO;
	if (!present)
		return -ENOENT;
	snprintf(path, sizeof(path), "/machine/peripheral/%s", device_id);
	r = hv_qmp_exec_new(h, "qom-get",
			    json_pack("{ssss}", "path", path, "property", "hotpluggable"),
			    deadline_ms, &hot, &tmp);
	if (r < 0 || !json_is_true(hot)) {
		json_decref(hot);
		return -EREMOTEIO;
	}
	json_decref(hot);
	r = hv_qmp_query_migrate(h, deadline_ms, &mi, &tmp);
	if (r < 0 || (mi.status != QMP_MIG_NONE && !qmp_migration_status_is_final(mi.status)))
		return -EREMOTEIO;
	snprintf(h->unplug_refusal, sizeof(h->unplug_refusal), "%s", refusal->msg);
	return 0;
}

static int hv_unplug_start(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			   struct diag *d)
{
	struct hv_qmp *h = ud;
	struct diag tmp = {{0}};
	int r;

	r = hv_conn(h, deadline_ms, d);
	if (r < 0)
		return r;
	h->unplug_refusal[0] = '\0';
	/* Stale events about this device from an earlier attempt must not answer this one. */
	while (qmp_client_wait_event(h->c, NULL, match_unplug, (void *)spec->device_id, 0, NULL,
				     NULL) == 0)
		;
	r = hv_qmp_exec_new(h, "device_del", json_pack("{ss}", "id", spec->device_id), deadline_ms,
			    NULL, &tmp);
	if (r == -EREMOTEIO && hv_qmp_error_class_is(h, "DeviceNotFound"))
		r = -ENOENT;
	else if (r == -EREMOTEIO && hv_qmp_error_class_is(h, "GenericError"))
		r = unplug_refused(h, spec->device_id, deadline_ms, &tmp);
	if (r < 0) {
		diag_set(d, "%s", tmp.msg);
		return r;
	}
	h->unplug_gen = h->gen;
	return 0;
}

static int hv_unplug_wait(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			  struct diag *d)
{
	struct hv_qmp *h = ud;
	struct qmp_event ev = {0};
	int r;

	r = hv_conn(h, deadline_ms, d);
	if (r < 0)
		return r;
	if (h->unplug_gen != h->gen) {
		/* Reconnected since device_del: the event may be lost; ask. */
		bool present = true;

		r = hv_device_present(h, spec->device_id, deadline_ms, &present, d);
		if (r < 0)
			return r;
		h->unplug_gen = h->gen;
		if (!present)
			return hv_netdev_del(h, spec, deadline_ms, d);
	}
	r = qmp_client_wait_event(h->c, NULL, match_unplug, (void *)spec->device_id, deadline_ms,
				  &ev, d);
	if (r == -ETIMEDOUT) {
		if (h->unplug_refusal[0])
			diag_set(
			    d, "removal of %s still in flight (QEMU had refused a device_del: %s)",
			    spec->device_id, h->unplug_refusal);
		else
			diag_set(d, "removal of %s still in flight", spec->device_id);
		return r;
	}
	if (r < 0)
		return r;
	if (strcmp(ev.name, "DEVICE_DELETED") != 0) {
		json_t *info = json_object_get(ev.data, "info");
		json_int_t st = json_integer_value(json_object_get(info, "status"));

		if (strcmp(ev.name, "ACPI_DEVICE_OST") == 0)
			diag_set(d, "guest refused to eject %s (ACPI _OST status 0x%llx)",
				 spec->device_id, (unsigned long long)st);
		else
			diag_set(d, "guest failed to release %s (%s)", spec->device_id, ev.name);
		qmp_event_clear(&ev);
		return -EBUSY;
	}
	qmp_event_clear(&ev);
	return hv_netdev_del(h, spec, deadline_ms, d);
}

/*
 * netdev_add of the tap behind an emulated VF. Refused while no device of the VF's id is in the
 * machine, it is tried again (at most NETDEV_ADD_TRIES times, a netdev_del before each try)
 * while the deadline allows: QEMU frees
 * the netdev of a removed NIC only when it finalizes the NIC, which may come after
 * DEVICE_DELETED and our netdev_del (the id stays taken until then); and a run killed between
 * netdev_add and device_add leaves a netdev that netdev_del frees at once.
 */
#define NETDEV_ADD_TRIES 40
#define NETDEV_ADD_PAUSE 50 /* ms */

/* Whether QEMU says no device of this id is in the machine (false when it cannot say). */
static bool device_gone(struct hv_qmp *h, const char *device_id, int64_t deadline_ms)
{
	struct diag ignored;
	bool present = true;

	return hv_device_present(h, device_id, deadline_ms, &present, &ignored) >= 0 && !present;
}

static int hv_netdev_add(struct hv_qmp *h, const struct plug_spec *spec, const char *nd,
			 int64_t deadline_ms, struct diag *d)
{
	for (int i = 1;; i++) {
		int r =
		    hv_qmp_exec_new(h, "netdev_add",
				    json_pack("{ssssssssss}", "type", "tap", "id", nd, "ifname",
					      spec->backend, "script", "no", "downscript", "no"),
				    deadline_ms, NULL, d);
		struct diag ignored;

		if (r != -EREMOTEIO || i == NETDEV_ADD_TRIES ||
		    time_now_ms() + NETDEV_ADD_PAUSE >= deadline_ms)
			return r;
		/* A device of that id still in the machine owns the netdev: leave both. */
		if (i == 1 && !device_gone(h, spec->device_id, deadline_ms))
			return r;
		(void)hv_netdev_del(h, spec, deadline_ms, &ignored);
		usleep(NETDEV_ADD_PAUSE * 1000);
	}
}

static int hv_plug(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	char nd[VFM_ID_MAX], mac[18];
	json_t *dev;
	int r;

	if (!spec->device_id[0] || !spec->driver[0]) {
		diag_set(d, "plug spec without device id or driver");
		return -EINVAL;
	}
	dev = json_pack("{ssss}", "driver", spec->driver, "id", spec->device_id);
	if (!dev) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	if (spec->bus[0])
		json_object_set_new(dev, "bus", json_string(spec->bus));
	if (spec->failover_pair_id[0])
		json_object_set_new(dev, "failover_pair_id", json_string(spec->failover_pair_id));
	if (spec->backend_kind == PLUG_BACKEND_TAP) {
		if (hv_qmp_netdev_id(spec, nd) < 0 || !spec->backend[0]) {
			json_decref(dev);
			diag_set(d, "plug spec %s: bad netdev id or no tap name", spec->device_id);
			return -EINVAL;
		}
		json_object_set_new(dev, "netdev", json_string(nd));
		/* The default option ROM of an emulated NIC breaks migration of a failover
		 * primary ("Unknown ramblock"); it is not needed. */
		json_object_set_new(dev, "romfile", json_string(""));
		if (spec->has_mac)
			json_object_set_new(dev, "mac", json_string(format_mac(spec->mac, mac)));
		r = hv_netdev_add(h, spec, nd, deadline_ms, d);
		if (r < 0) {
			json_decref(dev);
			return r;
		}
	} else {
		json_object_set_new(dev, "host", json_string(spec->backend));
	}
	r = hv_qmp_exec(h, "device_add", dev, deadline_ms, NULL, d);
	json_decref(dev);
	if (r < 0 && spec->backend_kind == PLUG_BACKEND_TAP) {
		struct diag ignored;

		/* Do not leave the netdev behind: a retry would fail on its id. */
		(void)hv_netdev_del(h, spec, deadline_ms, &ignored);
	}
	return r;
}

static int hv_enable_events(struct hv_qmp *h, int64_t deadline_ms, struct diag *d)
{
	return hv_qmp_exec_new(
	    h, "migrate-set-capabilities",
	    json_pack("{s[{sssb}]}", "capabilities", "capability", "events", "state", 1),
	    deadline_ms, NULL, d);
}

/*
 * Whether the destination already listens for the incoming migration: query-migrate names the
 * listening socket (QEMU 7.2 and 10) or a status once migrate-incoming ran. Asked after QEMU
 * refused a migrate-incoming with GenericError, whose text alone says "already started".
 */
static bool incoming_listening(struct hv_qmp *h, int64_t deadline_ms)
{
	struct diag tmp = {{0}};
	json_t *ret = NULL, *sa, *st;
	bool yes;

	if (hv_qmp_exec(h, "query-migrate", NULL, deadline_ms, &ret, &tmp) < 0)
		return false;
	sa = json_object_get(ret, "socket-address");
	st = json_object_get(ret, "status");
	if (json_is_string(st)) {
		enum qmp_migration_status m =
		    qmp_migration_status_from_string(json_string_value(st));

		yes = m != QMP_MIG_NONE && !qmp_migration_status_is_final(m);
	} else {
		yes = json_is_array(sa) && json_array_size(sa) > 0;
	}
	json_decref(ret);
	return yes;
}

static int hv_migrate_incoming(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			       struct diag *d)
{
	struct hv_qmp *h = ud;
	const char *uri = p->incoming_uri[0] ? p->incoming_uri : p->uri;
	struct diag tmp = {{0}};
	int r;

	r = hv_enable_events(h, deadline_ms, d);
	if (r < 0)
		return r;
	r = hv_qmp_exec_new(h, "migrate-incoming", json_pack("{ss}", "uri", uri), deadline_ms, NULL,
			    &tmp);
	if (r == -EREMOTEIO && hv_qmp_error_class_is(h, "GenericError") &&
	    incoming_listening(h, deadline_ms))
		r = 0; /* started before (an earlier run): it listens, as asked */
	if (r < 0) {
		diag_set(d, "%s", tmp.msg);
		return r;
	}
	h->incoming_started = true;
	return 0;
}

/* The source's max-bandwidth and downtime-limit (query-migrate-parameters); a value that is
 * not a plain non-negative number is unknown (-1). */
static int hv_tuning_get(void *ud, struct migrate_tuning *ret, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	json_t *cur = NULL, *v;
	int r;

	r = hv_qmp_exec(h, "query-migrate-parameters", NULL, deadline_ms, &cur, d);
	if (r < 0)
		return r;
	ret->max_bandwidth = ret->downtime_limit_ms = -1;
	v = json_is_object(cur) ? json_object_get(cur, "max-bandwidth") : NULL;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		ret->max_bandwidth = json_integer_value(v);
	v = json_is_object(cur) ? json_object_get(cur, "downtime-limit") : NULL;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		ret->downtime_limit_ms = json_integer_value(v);
	json_decref(cur);
	return 0;
}

/* Sets the known (>= 0) fields of t (migrate-set-parameters). */
static int hv_tuning_set(void *ud, const struct migrate_tuning *t, int64_t deadline_ms,
			 struct diag *d)
{
	struct hv_qmp *h = ud;
	json_t *params = json_object();

	if (!params) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	if (t->max_bandwidth >= 0)
		json_object_set_new(params, "max-bandwidth", json_integer(t->max_bandwidth));
	if (t->downtime_limit_ms >= 0)
		json_object_set_new(params, "downtime-limit", json_integer(t->downtime_limit_ms));
	if (json_object_size(params) == 0) {
		json_decref(params);
		return 0;
	}
	return hv_qmp_exec_new(h, "migrate-set-parameters", params, deadline_ms, NULL, d);
}

static int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			    struct diag *d)
{
	struct hv_qmp *h = ud;
	json_t *params;
	int r;

	r = hv_enable_events(h, deadline_ms, d);
	if (r < 0)
		return r;
	params = json_object();
	if (!params) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	if (p->max_bandwidth > 0)
		json_object_set_new(params, "max-bandwidth", json_integer(p->max_bandwidth));
	if (p->downtime_limit_ms > 0)
		json_object_set_new(params, "downtime-limit", json_integer(p->downtime_limit_ms));
	/* The core reads them first (tuning_get) and gives them back on a rollback. */
	if (json_object_size(params) > 0)
		r = hv_qmp_exec(h, "migrate-set-parameters", params, deadline_ms, NULL, d);
	json_decref(params);
	if (r < 0)
		return r;
	/* MIGRATION events of an earlier migration must not end this one. */
	qmp_client_flush_events(h->c, "MIGRATION");
	qmp_client_flush_events(h->c, "MIGRATION_PASS");
	return hv_qmp_exec_new(h, "migrate", json_pack("{ss}", "uri", p->uri), deadline_ms, NULL,
			       d);
}

static void stats_from_info(const struct qmp_migration_info *mi, struct migrate_stats *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->status, sizeof(s->status), "%s", qmp_migration_status_to_string(mi->status));
	s->total_ms = mi->total_time_ms;
	s->downtime_ms = mi->downtime_ms;
	s->setup_ms = mi->setup_time_ms;
	s->transferred_bytes = mi->ram_transferred > 0 ? (uint64_t)mi->ram_transferred : 0;
	s->remaining_bytes = mi->ram_remaining > 0 ? (uint64_t)mi->ram_remaining : 0;
	s->total_bytes = mi->ram_total > 0 ? (uint64_t)mi->ram_total : 0;
	s->dirty_sync_count = mi->ram_dirty_sync_count > 0 ? (uint64_t)mi->ram_dirty_sync_count : 0;
}

int hv_qmp_query_migrate(struct hv_qmp *h, int64_t deadline_ms, struct qmp_migration_info *ret_info,
			 struct diag *d)
{
	json_t *ret = NULL;
	int r;

	r = hv_qmp_exec(h, "query-migrate", NULL, deadline_ms, &ret, d);
	if (r < 0)
		return r;
	r = qmp_parse_migration_info(ret, ret_info, d);
	json_decref(ret);
	return r < 0 ? -EPROTO : 0;
}

/* The migration completed: fetch its final stats, re-polling while QEMU still says 0. */
static int migrate_final_stats(struct hv_qmp *h, int64_t deadline_ms,
			       struct migrate_stats *ret_stats, struct diag *d)
{
	int64_t until = time_now_ms() + h->o.stats_settle_ms;
	struct qmp_migration_info mi;
	int r;

	if (until > deadline_ms)
		until = deadline_ms;
	for (;;) {
		r = hv_qmp_query_migrate(h, deadline_ms, &mi, d);
		if (r < 0)
			return r;
		if (mi.total_time_ms > 0 && mi.downtime_ms > 0)
			break;
		if (time_now_ms() + 20 >= until)
			break;
		r = hv_pause(h, time_now_ms() + 20, d);
		if (r < 0)
			return r;
	}
	stats_from_info(&mi, ret_stats);
	/* Still 0 after settling: unknown rather than a false "no downtime". */
	if (ret_stats->total_ms <= 0)
		ret_stats->total_ms = -1;
	if (ret_stats->downtime_ms <= 0)
		ret_stats->downtime_ms = -1;
	return 0;
}

static int migrate_failed(struct hv_qmp *h, enum qmp_migration_status st, int64_t deadline_ms,
			  struct diag *d)
{
	struct qmp_migration_info mi = {.error_desc = ""};
	struct diag ignored;

	if (st == QMP_MIG_CANCELLED) {
		diag_set(d, "migration cancelled");
		return -ECANCELED;
	}
	(void)hv_qmp_query_migrate(h, deadline_ms, &mi, &ignored);
	if (mi.error_desc[0])
		diag_set(d, "migration failed: %s", mi.error_desc);
	else
		diag_set(d, "migration failed");
	return -EIO;
}

static int hv_migrate_wait(void *ud, int64_t deadline_ms, migrate_progress_fn progress,
			   void *cb_userdata, struct migrate_stats *ret_stats, struct diag *d)
{
	struct hv_qmp *h = ud;
	int r;

	r = hv_conn(h, deadline_ms, d);
	if (r < 0)
		return r;
	for (;;) {
		int64_t slice = time_now_ms() + h->o.progress_interval_ms;
		enum qmp_migration_status st = QMP_MIG_UNKNOWN;
		struct qmp_migration_info mi;
		struct qmp_event ev = {0};

		if (slice > deadline_ms)
			slice = deadline_ms;
		/* One MIGRATION_PASS per dirty-sync pass; nobody waits for them. */
		qmp_client_flush_events(h->c, "MIGRATION_PASS");
		r = qmp_client_wait_event(h->c, "MIGRATION", NULL, NULL, slice, &ev, d);
		if (r == 0) {
			r = qmp_parse_migration_event(ev.data, &st, d);
			qmp_event_clear(&ev);
			if (r < 0)
				return -EPROTO;
		} else if (r == -ETIMEDOUT) {
			if (time_now_ms() >= deadline_ms) {
				diag_set(d, "migration still running at the deadline");
				return -ETIMEDOUT;
			}
			/* No state change in this slice: report progress, and catch a final
			 * state whose event we could not see (e.g. after a reconnect). */
			r = hv_qmp_query_migrate(h, deadline_ms, &mi, d);
			if (r < 0)
				return r;
			st = mi.status;
			if (progress && !qmp_migration_status_is_final(st)) {
				struct migrate_stats s;

				stats_from_info(&mi, &s);
				progress(cb_userdata, &s);
			}
			if (st == QMP_MIG_NONE) {
				diag_set(d, "no migration is running");
				return -ESRCH;
			}
		} else {
			return r;
		}
		if (st == QMP_MIG_COMPLETED)
			return migrate_final_stats(h, deadline_ms, ret_stats, d);
		if (st == QMP_MIG_FAILED || st == QMP_MIG_CANCELLED)
			return migrate_failed(h, st, deadline_ms, d);
		/* Checked after each slice: the client's poll restarts after a signal, so a
		 * slice (the progress interval) bounds how late an interrupt is seen. */
		if (h->interrupted) {
			const char *why = h->interrupted(h->intr_userdata);

			if (why) {
				diag_set(d, "interrupted by %s while migrating", why);
				return -EINTR;
			}
		}
	}
}

static void hv_set_interrupt(void *ud, interrupt_fn interrupted, void *intr_userdata)
{
	struct hv_qmp *h = ud;

	h->interrupted = interrupted;
	h->intr_userdata = interrupted ? intr_userdata : NULL;
}

static int hv_migrate_cancel(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	struct qmp_migration_info mi;
	int r;

	r = hv_qmp_exec(h, "migrate_cancel", NULL, deadline_ms, NULL, d);
	if (r < 0)
		return r;
	for (;;) {
		struct qmp_event ev = {0};
		enum qmp_migration_status st;

		r = hv_qmp_query_migrate(h, deadline_ms, &mi, d);
		if (r < 0)
			return r;
		st = mi.status;
		if (st == QMP_MIG_NONE || st == QMP_MIG_CANCELLED || st == QMP_MIG_FAILED)
			return 0;
		if (st == QMP_MIG_COMPLETED) {
			diag_set(d, "migration completed before it could be cancelled");
			return -EALREADY;
		}
		r = qmp_client_wait_event(h->c, "MIGRATION", NULL, NULL, deadline_ms, &ev, d);
		qmp_event_clear(&ev);
		if (r == -ETIMEDOUT)
			diag_set(d, "migration still cancelling at the deadline");
		if (r < 0)
			return r;
	}
}

static int hv_stop(void *ud, int64_t deadline_ms, struct diag *d)
{
	return hv_qmp_exec(ud, "stop", NULL, deadline_ms, NULL, d);
}

static int hv_cont(void *ud, int64_t deadline_ms, struct diag *d)
{
	return hv_qmp_exec(ud, "cont", NULL, deadline_ms, NULL, d);
}

static int hv_quit(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	int r = hv_qmp_exec(h, "quit", NULL, deadline_ms, NULL, d);

	/* QEMU may close the socket before its reply gets out. */
	if (r == -ECONNRESET)
		r = 0;
	if (r == 0)
		h->c = qmp_client_free(h->c);
	return r;
}

static int hv_announce(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	json_t *args = json_pack("{sisisisi}", "initial", 50, "max", 550, "rounds", 5, "step", 100);

	if (args && h->o.announce_nic[0])
		json_object_set_new(args, "interfaces", json_pack("[s]", h->o.announce_nic));
	return hv_qmp_exec_new(h, "announce-self", args, deadline_ms, NULL, d);
}

void hv_qmp_ops(struct hv_qmp *h, struct hv_ops *ret_ops)
{
	*ret_ops = (struct hv_ops){
	    .userdata = h,
	    .probe = hv_probe,
	    .device_present = hv_device_present,
	    .unplug_start = hv_unplug_start,
	    .unplug_wait = hv_unplug_wait,
	    .plug = hv_plug,
	    .migrate_incoming = hv_migrate_incoming,
	    .tuning_get = hv_tuning_get,
	    .tuning_set = hv_tuning_set,
	    .migrate_start = hv_migrate_start,
	    .migrate_wait = hv_migrate_wait,
	    .migrate_cancel = hv_migrate_cancel,
	    .stop = hv_stop,
	    .cont = hv_cont,
	    .quit = hv_quit,
	    .announce = hv_announce,
	    .set_interrupt = hv_set_interrupt,
	    .failover_pair = hv_qmp_failover_pair,
	    .migrate_wait_unplug = hv_qmp_migrate_wait_unplug,
	    .announce_nic = hv_qmp_announce_nic,
	};
}
