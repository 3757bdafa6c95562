/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sizes of the names events, identities and records carry. */
#ifndef EXITWATCH_NAMES_H
#define EXITWATCH_NAMES_H

#include "exitwatch/abi.h"

#define EW_CGROUP_PATH_MAX (EW_CG_LEVELS * EW_CG_NAME_LEN + 8) /* "/..." + names + '/'s */
#define EW_ID_LEN	   65				       /* 64 hex + NUL */
#define EW_UID_LEN	   37				       /* 8-4-4-4-12 + NUL */
#define EW_NAME_LEN	   256
#define EW_KEY_LEN	   (EW_CGROUP_PATH_MAX + 32)

#endif
