/*
 * tee_call.c: the C counterpart of tee-call.rs, against the GP TEE Client
 * API (tee_client_api.h, -lteec): opens a session with the TA UUID and,
 * given CMD, invokes it with p0 a value inout (a = A, default 0), printing
 * what the API returns as a C client usually does. Build (see README.md):
 *
 *   aarch64-linux-gnu-gcc -I INCLUDE -o tee-call-c tee_call.c \
 *       -L LIBDIR -lteec -Wl,--allow-shlib-undefined
 *
 * usage: tee-call-c UUID [CMD [A]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

static int parse_uuid(const char *s, TEEC_UUID *u)
{
	unsigned int b[8];

	if (strlen(s) != 36 ||
	    sscanf(s, "%8x-%4hx-%4hx-%2x%2x-%2x%2x%2x%2x%2x%2x",
		   &u->timeLow, &u->timeMid, &u->timeHiAndVersion,
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]) != 11)
		return -1;
	for (int i = 0; i < 8; i++)
		u->clockSeqAndNode[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	TEEC_Context ctx;
	TEEC_Session sess;
	TEEC_Operation op;
	TEEC_UUID uuid;
	TEEC_Result res;
	uint32_t origin = 0;

	if (argc < 2 || parse_uuid(argv[1], &uuid)) {
		fprintf(stderr, "usage: tee-call-c UUID [CMD [A]]\n");
		return 2;
	}
	res = TEEC_InitializeContext(NULL, &ctx);
	if (res != TEEC_SUCCESS) {
		printf("TEEC_InitializeContext failed with code 0x%x\n", res);
		return 1;
	}
	res = TEEC_OpenSession(&ctx, &sess, &uuid, TEEC_LOGIN_PUBLIC, NULL,
			       NULL, &origin);
	if (res != TEEC_SUCCESS) {
		printf("TEEC_OpenSession failed with code 0x%x origin 0x%x\n",
		       res, origin);
		TEEC_FinalizeContext(&ctx);
		return 1;
	}
	if (argc > 2) {
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].value.a = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
		res = TEEC_InvokeCommand(&sess, strtoul(argv[2], NULL, 0), &op,
					 &origin);
		if (res != TEEC_SUCCESS)
			printf("TEEC_InvokeCommand failed with code 0x%x origin 0x%x\n",
			       res, origin);
		else
			printf("value a = %u\n", op.params[0].value.a);
	}
	TEEC_CloseSession(&sess);
	TEEC_FinalizeContext(&ctx);
	return res == TEEC_SUCCESS ? 0 : 1;
}
