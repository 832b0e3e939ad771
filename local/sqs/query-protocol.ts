/**
 * The SQS query protocol, which the hub does not serve: form-encoded `Action=<Operation>&Version=2012-11-05`
 * requests answered in XML, as botocore before 2024 and the AWS SDK for JavaScript v2 send them (to `/`
 * or to the queue URL). Such a client expects an XML error document and reports a JSON 404 as "invalid
 * XML", so the hub answers in the shape the query protocol uses, HTTP 400:
 *
 * ```xml
 * <ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">
 *   <Error><Type>Sender</Type><Code>AWS.SimpleQueueService.UnsupportedOperation</Code><Message>..</Message><Detail/></Error>
 *   <RequestId>..</RequestId>
 * </ErrorResponse>
 * ```
 *
 * with a message naming the problem: only the JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.*`)
 * is served. boto3/botocore from 2024 on, the AWS CLI built on them and the AWS SDK for JavaScript v3
 * speak it.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const QUERY_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';
const ERROR_CODE = 'AWS.SimpleQueueService.UnsupportedOperation';

/** Whether a request without `X-Amz-Target` may be a query-protocol call: a form-encoded POST, or a GET. */
export function mayBeSqsQueryRequest(method: string | undefined, contentType: string | undefined): boolean {
  if (method === 'GET') return true;
  return method === 'POST' && (contentType ?? '').split(';')[0]?.trim().toLowerCase() === FORM_CONTENT_TYPE;
}

/**
 * The query-protocol `Action` of a request (from the form body, or the query string of a GET), or
 * undefined when it has none: then it is not an SQS call at all.
 */
export function sqsQueryAction(body: Buffer, rawQueryString: string): string | undefined {
  for (const source of [body.toString('utf8'), rawQueryString]) {
    const action = new URLSearchParams(source).get('Action');
    if (action) return action;
  }
  return undefined;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Answers a query-protocol request with the SQS XML error saying that only the JSON protocol is served. */
export function writeSqsQueryProtocolError(response: ServerResponse, action: string): void {
  // The action is echoed back only when it looks like an operation name.
  const operation = /^[A-Za-z]{1,64}$/.test(action) ? action : '<Operation>';
  const message =
    `The local hub does not serve the SQS query protocol (form-encoded Action=${operation}, XML answers); ` +
    `it serves only the JSON protocol: AWS JSON 1.0, POST with X-Amz-Target: AmazonSQS.${operation} ` +
    'and a JSON body. Use a client that speaks it: boto3/botocore from 2024 on (and the AWS CLI built on ' +
    'them) or the AWS SDK for JavaScript v3.';
  const requestId = randomUUID();
  const body =
    `<?xml version="1.0"?><ErrorResponse xmlns="${QUERY_NAMESPACE}"><Error><Type>Sender</Type>` +
    `<Code>${ERROR_CODE}</Code><Message>${escapeXml(message)}</Message><Detail/></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  response.writeHead(400, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
  });
  response.end(body);
}
