/*
 * oxtee's test plugin for Debian's (upstream's) tee-supplicant: a shared
 * object tee-supplicant loads from /usr/lib/tee-supplicant/plugins/. It
 * answers the commands of optee_test's test plugin under its UUID, as
 * oxtee-supplicant's built-in one does (normal/supplicant/src/plugin.rs),
 * so the same suite runs with either supplicant.
 */
#include <stdint.h>
#include <string.h>
#include <tee_plugin_method.h>

enum { CMD_PING = 0, CMD_PASS_VALUES = 1, CMD_WRITE_ARR = 2, CMD_GET_ARR = 3 };

static const char test_array[] = "Array from plugin";

static TEEC_Result pass_values(unsigned int sub_cmd, uint8_t *data, size_t len, size_t *out_len)
{
	uint32_t a = 0;
	uint32_t b = 0;

	if (!data || len < 2 * sizeof(uint32_t))
		return TEEC_ERROR_GENERIC;
	memcpy(&a, data, sizeof(a));
	memcpy(&b, data + sizeof(a), sizeof(b));
	a = sub_cmd == '+' ? a + b : a - b;
	memcpy(data, &a, sizeof(a));
	*out_len = sizeof(a);
	return TEEC_SUCCESS;
}

static TEEC_Result write_arr(uint8_t *data, size_t len, size_t *out_len)
{
	uint8_t sum = 0;
	size_t i = 0;

	if (!data || !len)
		return TEEC_ERROR_GENERIC;
	for (i = 0; i < len; i++)
		sum += data[i];
	data[0] = sum;
	*out_len = 1;
	return TEEC_SUCCESS;
}

static TEEC_Result get_arr(uint8_t *data, size_t len, size_t *out_len)
{
	if (!data || len < sizeof(test_array))
		return TEEC_ERROR_GENERIC;
	memcpy(data, test_array, sizeof(test_array));
	*out_len = sizeof(test_array);
	return TEEC_SUCCESS;
}

static TEEC_Result invoke(unsigned int cmd, unsigned int sub_cmd, void *data, size_t len, size_t *out_len)
{
	switch (cmd) {
	case CMD_PING:
		return TEEC_SUCCESS;
	case CMD_PASS_VALUES:
		return pass_values(sub_cmd, data, len, out_len);
	case CMD_WRITE_ARR:
		return write_arr(data, len, out_len);
	case CMD_GET_ARR:
		return get_arr(data, len, out_len);
	default:
		return TEEC_ERROR_NOT_SUPPORTED;
	}
}

struct plugin_method plugin_method = {
	.name = "oxtee-test",
	.uuid = { 0xf07bfc66, 0x958c, 0x4a15, { 0x99, 0xc0, 0x26, 0x0e, 0x4e, 0x73, 0x75, 0xdd } },
	.init = NULL,
	.invoke = invoke,
};
