// SPDX-License-Identifier: MIT
/*
 * qmp-call: one QMP command (or one event wait) from a shell script.
 *
 *   qmp-call [--timeout MS] SOCKET COMMAND [JSON-ARGS]
 *       prints the return value as one line of JSON
 *   qmp-call --wait-event NAME [--timeout MS] SOCKET
 *       prints the first NAME event that arrives after connecting, as one line of JSON
 *
 * Exit: 0 ok, 2 usage, 3 QMP error (desc on stderr), 4 timeout, connection or protocol failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "io/qmp_client.h"
#include "proto/jsonlim.h"

#define EXIT_USAGE   2
#define EXIT_QMP_ERR 3
#define EXIT_COMM    4

static void usage(FILE *f)
{
	fprintf(f, "usage: qmp-call [--timeout MS] SOCKET COMMAND [JSON-ARGS]\n"
		   "       qmp-call --wait-event NAME [--timeout MS] SOCKET\n");
}

static void print_err(const char *what, const struct diag *d)
{
	char clean[sizeof(d->msg)];

	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "qmp-call: %s%s%s\n", what, what[0] ? ": " : "", clean);
}

static int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	if (!s) {
		fprintf(stderr, "qmp-call: cannot encode the result\n");
		return EXIT_COMM;
	}
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : EXIT_COMM;
}

static int print_event(const struct qmp_event *ev)
{
	json_t *o = json_object();
	int r;

	if (!o)
		return EXIT_COMM;
	json_object_set_new(o, "event", json_string(ev->name));
	json_object_set(o, "data", ev->data);
	if (ev->timestamp_us >= 0)
		json_object_set_new(
		    o, "timestamp",
		    json_pack("{sIsI}", "seconds", (json_int_t)(ev->timestamp_us / 1000000),
			      "microseconds", (json_int_t)(ev->timestamp_us % 1000000)));
	r = print_json(o);
	json_decref(o);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"wait-event", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_qmp_client_ struct qmp_client *c = NULL;
	const char *event = NULL, *sock, *cmd = NULL;
	json_t *args = NULL, *ret = NULL;
	int64_t timeout = 10000, deadline;
	struct diag d = {{0}};
	int opt, r, rc;

	while ((opt = getopt_long(argc, argv, "+t:w:h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_int64(optarg, 0, 86400000, &timeout) < 0) {
				fprintf(stderr, "qmp-call: invalid --timeout '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			event = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (event ? argc != 1 : (argc < 2 || argc > 3)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	sock = argv[0];
	if (!event) {
		cmd = argv[1];
		if (!qmp_command_name_valid(cmd)) {
			fprintf(stderr, "qmp-call: invalid command name\n");
			return EXIT_USAGE;
		}
		if (argc == 3) {
			args = json_decode_strict(argv[2], strlen(argv[2]), QMP_LINE_MAX,
						  QMP_DEPTH_MAX, &d);
			if (!args || !json_is_object(args)) {
				if (args)
					diag_set(&d, "not a JSON object");
				print_err("JSON-ARGS", &d);
				json_decref(args);
				return EXIT_USAGE;
			}
		}
	}

	deadline = time_now_ms() + timeout;
	r = qmp_client_connect(sock, deadline, &c, &d);
	if (r < 0) {
		json_decref(args);
		print_err(sock, &d);
		return EXIT_COMM;
	}
	if (event) {
		struct qmp_event ev = {0};

		r = qmp_client_wait_event(c, event, NULL, NULL, deadline, &ev, &d);
		if (r < 0) {
			print_err("", &d);
			return EXIT_COMM;
		}
		rc = print_event(&ev);
		qmp_event_clear(&ev);
		return rc;
	}
	r = qmp_client_execute(c, cmd, args, deadline, &ret, &d);
	json_decref(args);
	if (r == -EREMOTEIO) {
		print_err(qmp_client_last_error_class(c), &d);
		return EXIT_QMP_ERR;
	}
	if (r < 0) {
		print_err("", &d);
		return EXIT_COMM;
	}
	rc = print_json(ret);
	json_decref(ret);
	return rc;
}
