// SPDX-License-Identifier: MIT
/*
 * qga-call [--timeout MS] SOCKET COMMAND [JSON-ARGS]: runs one guest agent command (ours or
 * the stock qemu-ga) and prints its "return" value as one line of JSON.
 * Exit: 0 ok; 2 usage; 3 the agent answered with an error (class and desc on stderr);
 * 4 timeout, connection or protocol failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "io/qga_client.h"
#include "proto/jsonlim.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: qga-call [--timeout MS] SOCKET COMMAND [JSON-ARGS]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_qga_client_ struct qga_client *c = NULL;
	int64_t timeout = 10000, deadline;
	json_t *args = NULL, *ret = NULL;
	struct diag d = {{0}};
	char *out;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_int64(optarg, 1, 3600 * 1000, &timeout) < 0) {
				fprintf(stderr, "qga-call: bad --timeout %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return 2;
	}
	if (argc - optind == 3) {
		const char *a = argv[optind + 2];

		args = json_decode_strict(a, strlen(a), QGA_REQUEST_MAX, QGA_DEPTH_MAX, &d);
		if (!args || !json_is_object(args)) {
			fprintf(stderr, "qga-call: JSON-ARGS must be a JSON object%s%s\n",
				args ? "" : ": ", args ? "" : d.msg);
			json_decref(args);
			return 2;
		}
	}
	deadline = time_now_ms() + timeout;
	r = qga_client_connect(argv[optind], deadline, &c, &d);
	if (r >= 0)
		r = qga_client_call(c, argv[optind + 1], args, deadline, &ret, &d);
	json_decref(args);
	if (r == -EREMOTEIO) {
		fprintf(stderr, "qga-call: %s: %s\n", qga_client_last_error_class(c), d.msg);
		return 3;
	}
	if (r < 0) {
		fprintf(stderr, "qga-call: %s\n", d.msg[0] ? d.msg : strerror(-r));
		return 4;
	}
	out = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(ret);
	if (!out)
		return 4;
	printf("%s\n", out);
	free(out);
	return 0;
}
