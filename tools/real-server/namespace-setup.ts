import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import type { SearchAttributeSpec } from '../../client/stack/dev-server';
import { retryUntil } from './retry-until';

const IVT = temporal.api.enums.v1.IndexedValueType;
const INDEXED_VALUE_TYPES: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  TEXT: IVT.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IVT.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IVT.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IVT.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IVT.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * The namespace (1-day retention) and the search attributes, each only if missing, then waits
 * until both are served (a new namespace reaches the frontend's cache within seconds).
 */
export async function registerNamespace(
  address: string,
  namespace: string,
  searchAttributes: readonly SearchAttributeSpec[],
  deadline: number,
  alive: () => string | undefined = () => undefined,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { workflowService, operatorService } = connection;
    const exists = await workflowService.describeNamespace({ namespace }).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await workflowService
        .registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: google.protobuf.Duration.fromObject({ seconds: 24 * 60 * 60 }),
        })
        .catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
    }
    const present = await retryUntil(
      `namespace ${namespace}`,
      () => operatorService.listSearchAttributes({ namespace }),
      deadline,
      alive,
    );
    const missing = searchAttributes.filter((key) => !(key.name in (present.customAttributes ?? {})));
    if (missing.length > 0) {
      await retryUntil(
        `search attributes ${missing.map((k) => k.name).join(', ')}`,
        () =>
          operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPES[k.type]])),
          }),
        deadline,
        alive,
      );
    }
    await retryUntil(
      'search attributes to be listed',
      async () => {
        const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
        const absent = searchAttributes.filter((key) => !(key.name in (customAttributes ?? {})));
        if (absent.length > 0) throw new Error(`not yet: ${absent.map((k) => k.name).join(', ')}`);
      },
      deadline,
      alive,
    );
  } finally {
    await connection.close();
  }
}
