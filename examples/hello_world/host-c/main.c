/*
 * example-hello_world-c: the hello_world client in C, against the
 * GlobalPlatform TEE Client API (tee_client_api.h, libteec), as
 * optee_examples' host program is. Increments and decrements a value in
 * the TA, checks the answers and that an unknown command is refused.
 * Exits 0 only if every check passed.
 *
 * The UUID and command ids are hello_world-proto's (../proto/src/lib.rs);
 * C has no access to the Rust crate, so they are repeated here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

/* hello_world-proto's UUID: 8aaaf200-2450-11e4-abe2-0002a5d5c51b */
static const TEEC_UUID hello_world_uuid = {
	0x8aaaf200, 0x2450, 0x11e4,
	{ 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b }
};

#define CMD_INC_VALUE 0
#define CMD_DEC_VALUE 1

static int failed;

static void fail(const char *what, TEEC_Result res, uint32_t origin)
{
	printf("example-hello_world-c: FAIL %s: 0x%08x (origin %u)\n", what,
	       (unsigned)res, (unsigned)origin);
	failed = 1;
}

/* Invokes cmd with *value as p0 value in/out. */
static TEEC_Result call(TEEC_Session *sess, uint32_t cmd, uint32_t *value,
			uint32_t *origin)
{
	TEEC_Operation op;
	TEEC_Result res;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = *value;
	res = TEEC_InvokeCommand(sess, cmd, &op, origin);
	if (res == TEEC_SUCCESS)
		*value = op.params[0].value.a;
	return res;
}

int main(void)
{
	TEEC_Context ctx;
	TEEC_Session sess;
	TEEC_Result res;
	uint32_t origin = 0;
	uint32_t value = 42;

	res = TEEC_InitializeContext(NULL, &ctx);
	if (res != TEEC_SUCCESS) {
		fail("TEEC_InitializeContext", res, 0);
		return EXIT_FAILURE;
	}
	res = TEEC_OpenSession(&ctx, &sess, &hello_world_uuid,
			       TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
	if (res != TEEC_SUCCESS) {
		fail("TEEC_OpenSession", res, origin);
		TEEC_FinalizeContext(&ctx);
		return EXIT_FAILURE;
	}
	printf("example-hello_world-c: session open\n");

	res = call(&sess, CMD_INC_VALUE, &value, &origin);
	if (res != TEEC_SUCCESS)
		fail("increment", res, origin);
	else if (value != 43)
		fail("increment: wrong value", value, 0);
	else
		printf("example-hello_world-c: incremented 42 -> %u\n", value);

	res = call(&sess, CMD_DEC_VALUE, &value, &origin);
	if (res != TEEC_SUCCESS)
		fail("decrement", res, origin);
	else if (value != 42)
		fail("decrement: wrong value", value, 0);
	else
		printf("example-hello_world-c: decremented 43 -> %u\n", value);

	res = call(&sess, 99, &value, &origin);
	if (res != TEEC_ERROR_NOT_SUPPORTED || origin != TEEC_ORIGIN_TRUSTED_APP)
		fail("unknown command: want TEEC_ERROR_NOT_SUPPORTED from the TA",
		     res, origin);
	else
		printf("example-hello_world-c: unknown command refused\n");

	TEEC_CloseSession(&sess);
	TEEC_FinalizeContext(&ctx);
	if (failed)
		return EXIT_FAILURE;
	printf("example-hello_world-c: ok\n");
	return EXIT_SUCCESS;
}
