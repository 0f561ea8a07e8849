/** OpenTelemetry span wire types, in a module without browser dependencies so pure code can share them. */

/** An OpenTelemetry AnyValue in protobuf JSON; int64 arrives as a decimal string. */
export type OtelAnyValue = {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string | number;
  double_value?: number | string;
  bytes_value?: string;
  array_value?: { values?: OtelAnyValue[] };
  kvlist_value?: { values?: OtelKeyValue[] };
};

export interface OtelKeyValue {
  key: string;
  value?: OtelAnyValue;
}

/** An OpenTelemetry Span: ids base64, times nanoseconds since the epoch as decimal strings. */
export interface OtelSpan {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind?: string;
  start_time_unix_nano: string;
  end_time_unix_nano?: string;
  attributes?: OtelKeyValue[];
  events?: { time_unix_nano: string; name: string; attributes?: OtelKeyValue[] }[];
  status?: { code?: string; message?: string };
}
