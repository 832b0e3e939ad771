/** Message attributes a sync dead letter carries: what `omnihub dlq list` shows. */
export const DLQ_ATTRIBUTES = {
  reason: 'omnihub.error',
  status: 'omnihub.status',
  destination: 'omnihub.destination',
  failedAt: 'omnihub.failedAt',
  sourceQueue: 'omnihub.sourceQueueArn',
} as const;
