{{- define "dify-sso.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dify-sso.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dify-sso.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dify-sso.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dify-sso.labels" -}}
{{ include "dify-sso.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dify-sso.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* A secret env var from the existing Secret: (list ctx ENV_NAME keyName optional) */}}
{{- define "dify-sso.secretEnv" -}}
{{- $ctx := index . 0 -}}
{{- $key := index $ctx.Values.secrets.keys (index . 2) -}}
{{- if $key }}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required" $ctx.Values.secrets.existingSecret }}
      key: {{ $key }}
      optional: {{ index . 3 }}
{{- end }}
{{- end -}}

{{/* Redis settings as env: (list prefix map) → DIFY_SSO_<prefix>_<UPPER_SNAKE key> */}}
{{- define "dify-sso.redisEnv" -}}
{{- $prefix := index . 0 -}}
{{- range $k, $v := index . 1 }}
{{- if not (has $k (list "tlsCa" "tlsCert" "tlsKey" "password" "sentinelPassword")) }}
- name: {{ printf "DIFY_SSO_%s_%s" $prefix ($k | snakecase | upper) }}
  value: {{ if kindIs "slice" $v }}{{ join "," $v | quote }}{{ else }}{{ toString $v | quote }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}
