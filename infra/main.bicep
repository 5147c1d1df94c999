// ResponsesGateway on Azure Functions Flex Consumption, deployed with `azd up`.
// Layout follows Azure-Samples/functions-quickstart-dotnet-azd (subscription scope -> resource group -> modules),
// written with plain resources instead of registry modules. Parameters and their azd environment variables:
// see main.parameters.json and docs/deploy.md.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// azd environment
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used for the resource group name and a short unique hash in all resource names.')
param environmentName string

@minLength(1)
@description('Region of all resources. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional: name of the resource group. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the deploying user (azd fills in AZURE_PRINCIPAL_ID). When set, it gets the data roles on storage and Secrets Officer on the Key Vault, to debug and to read the generated client key. Leave empty in CI.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Type of principalId.')
param principalType string = 'User'

// ---------------------------------------------------------------------------------------------
// Gateway client key (Gateway__ApiKeys__default), generated once by azd and kept in Key Vault
// ---------------------------------------------------------------------------------------------

@secure()
@minLength(16)
@description('The client key of the tenant "default" (clients send it as "Authorization: Bearer <key>"). azd generates it once and stores it in .azure/<env>/config.json; a GUID parameter default would instead rotate it on every provision.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
    }
  }
})
param gatewayClientKey string

@secure()
@minLength(32)
@description('Gateway__CompactionKey: HMAC key sealing the compaction items of chat upstreams (shared by every instance). azd generates it once; kept in Key Vault.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
    }
  }
})
param gatewayCompactionKey string

// ---------------------------------------------------------------------------------------------
// The upstream named "default" (Upstreams__default__*)
// ---------------------------------------------------------------------------------------------

@allowed([
  'responses'
  'chat'
])
@description('responses: the upstream speaks /v1/responses natively; chat: Chat Completions only (translated).')
param upstreamKind string = 'responses'

@minLength(1)
@description('Upstream base URL up to and including the version segment, e.g. https://api.openai.com/v1 or https://<resource>.openai.azure.com/openai/v1.')
param upstreamBaseUrl string = 'https://api.openai.com/v1'

@description('Comma-separated model patterns the upstream serves; * matches any run of characters.')
param upstreamModels string = '*'

@description('Optional model renames, client-name=upstream-name pairs separated by ; or ,.')
param upstreamModelMap string = ''

@description('Upstreams__default__Fallback: name of another configured upstream that serves these models when this one fails before answering; empty: none.')
param upstreamFallback string = ''

@description('Upstreams__default__PassErrorMessages: pass the upstream\'s own 4xx error messages to clients (they may name the operator\'s account); false: the gateway\'s wording.')
param upstreamPassErrorMessages bool = false

// Capability profile of a `chat` upstream (ignored for `responses`); defaults suit a generic OpenAI-compatible server.
@allowed([
  'system'
  'developer'
])
@description('Upstreams__default__ChatSystemRole: role for instructions and system messages on a chat upstream.')
param upstreamChatSystemRole string = 'system'

@allowed([
  'max_tokens'
  'max_completion_tokens'
])
@description('Upstreams__default__ChatMaxTokensField: the field max_output_tokens is sent as on a chat upstream.')
param upstreamChatMaxTokensField string = 'max_tokens'

@allowed([
  'reasoning_content'
  'reasoning'
])
@description('Upstreams__default__ChatReasoningField: the assistant-message field that carries reasoning sent back.')
param upstreamChatReasoningField string = 'reasoning_content'

@allowed([
  'reasoning_effort'
  'none'
])
@description('Upstreams__default__ChatReasoningEffort: how reasoning.effort is sent to a chat upstream.')
param upstreamChatReasoningEffort string = 'reasoning_effort'

@description('Upstreams__default__ChatJsonSchema: whether the chat upstream supports response_format json_schema.')
param upstreamChatJsonSchema bool = true

@description('Upstreams__default__ChatParallelToolCalls: whether parallel_tool_calls is forwarded to the chat upstream.')
param upstreamChatParallelToolCalls bool = true

@description('Upstreams__default__ChatSendReasoningContent: send earlier reasoning back on assistant messages (DeepSeek thinking mode).')
param upstreamChatSendReasoningContent bool = false

@description('Upstreams__default__ChatThinkTags: split a leading <think> block of the answer into a reasoning item.')
param upstreamChatThinkTags bool = true

@allowed([
  'drop'
  'reject'
])
@description('Upstreams__default__ChatHostedTools: hosted tools (web_search, file_search...) a chat upstream cannot run are dropped (named in x-gateway-dropped-tools) or rejected with 400.')
param upstreamChatHostedTools string = 'drop'

@allowed([
  'key'
  'managed-identity'
])
@description('key: send upstreamApiKey; managed-identity: send an Entra ID token of the app identity (Azure OpenAI).')
param upstreamAuth string = 'key'

@secure()
@description('The upstream\'s API key (empty allowed, e.g. with managed-identity). Stored in Key Vault, read through a Key Vault reference.')
param upstreamApiKey string = ''

@minLength(1)
@description('Header that carries the upstream key: Authorization (sent as "Bearer <key>") or e.g. api-key for Azure OpenAI.')
param upstreamApiKeyHeader string = 'Authorization'

@minLength(1)
@description('Token scope for upstreamAuth = managed-identity.')
param upstreamTokenScope string = 'https://cognitiveservices.azure.com/.default'

@description('With upstreamAuth = managed-identity: name of an existing Azure OpenAI / AI Services account on which the app identity gets "Cognitive Services OpenAI User". Empty: no role assignment.')
param azureOpenAiResourceName string = ''

@description('Resource group of azureOpenAiResourceName (same subscription). Empty: the gateway\'s resource group.')
param azureOpenAiResourceGroupName string = ''

// ---------------------------------------------------------------------------------------------
// Gateway and storage tunables (defaults match the options classes in ResponsesGateway.Core)
// ---------------------------------------------------------------------------------------------

@description('Gateway__ApiKeyHashes__hashed: an extra client key given as the hex SHA-256 of the key (tenant "hashed"); empty: none.')
param gatewayClientKeyHash string = ''

@description('Gateway__MaxConcurrentRequestsPerKey: requests one key may have in flight (more: 429). 0: unlimited.')
param gatewayMaxConcurrentRequestsPerKey int = 0

@description('Gateway__RequestsPerMinutePerKey: requests one key may start per minute (more: 429). 0: unlimited.')
param gatewayRequestsPerMinutePerKey int = 0

@minValue(1024)
@description('Gateway__MaxRequestBodyBytes: largest request body accepted (larger: 413).')
param gatewayMaxRequestBodyBytes int = 33554432

@minValue(1)
@description('Gateway__KeepAliveSeconds: seconds of upstream silence before an SSE keep-alive comment. Keep well below 230.')
param gatewayKeepAliveSeconds int = 15

@minValue(1)
@description('Gateway__UpstreamConnectTimeoutSeconds.')
param gatewayUpstreamConnectTimeoutSeconds int = 10

@minValue(1)
@description('Gateway__UpstreamFirstByteTimeoutSeconds.')
param gatewayUpstreamFirstByteTimeoutSeconds int = 300

@minValue(1)
@description('Gateway__UpstreamIdleTimeoutSeconds.')
param gatewayUpstreamIdleTimeoutSeconds int = 300

@minValue(1)
@description('Gateway__RequestTimeoutSeconds: upper bound of one whole request, streaming included (Flex functionTimeout default: 30 min).')
param gatewayRequestTimeoutSeconds int = 1800

@minValue(0)
@description('Gateway__UpstreamMaxRetries: retries of an upstream call that failed before anything reached the client. 0: none.')
param gatewayUpstreamMaxRetries int = 2

@description('Gateway__UpstreamRetryDelaySeconds: first retry delay in seconds (a decimal, hence a string); later ones back off exponentially.')
param gatewayUpstreamRetryDelaySeconds string = '0.5'

@minValue(0)
@description('Gateway__UpstreamMaxRetryDelaySeconds: cap on a retry delay, Retry-After included; a longer Retry-After is answered with 429 at once.')
param gatewayUpstreamMaxRetryDelaySeconds int = 5

@minValue(1024)
@description('Gateway__UpstreamMaxEventBytes: largest single upstream SSE event or JSON answer; a bigger one fails the request.')
param gatewayUpstreamMaxEventBytes int = 16777216

@minValue(0)
@description('Gateway__ChainCacheMegabytes: memory for recently used chain context, so continuing a chain reads one row; 0 turns it off.')
param gatewayChainCacheMegabytes int = 64

@minValue(0)
@description('Gateway__ShutdownDrainSeconds: time running turns get to finish when the app stops (new turns: 503); streams still open then end with response.failed. Below the platform grace period.')
param gatewayShutdownDrainSeconds int = 20

@description('Gateway__CompactionPrompt: the summarising instruction of compaction on chat upstreams; empty: the built-in prompt (README).')
param gatewayCompactionPrompt string = ''

@minValue(1024)
@description('Gateway__MaxChainBytes: largest expanded history of one request (the stored turns from the root to previous_response_id); a larger one is a 400.')
param gatewayMaxChainBytes int = 67108864

@description('OTEL_EXPORTER_OTLP_ENDPOINT: an OTLP collector that also receives the traces and metrics (Application Insights always does); empty: none.')
param otlpEndpoint string = ''

@description('Background__QueueName: the storage queue of background responses (the queue trigger reads it too).')
param backgroundQueueName string = 'responses-background'

@minValue(1)
@description('Background__EventBatchSize: events a background run writes to storage at once.')
param backgroundEventBatchSize int = 32

@minValue(10)
@description('Background__EventBatchMilliseconds: longest time an event of a background run waits before it is written.')
param backgroundEventBatchMilliseconds int = 250

@minValue(6)
@description('Background__LeaseSeconds: how long a background runner\'s claim lasts without renewal; a dead runner\'s run ends failed after it.')
param backgroundLeaseSeconds int = 60

@minValue(50)
@description('Background__PollMilliseconds: longest wait between two reads of the event log while a resumed stream tails a live run.')
param backgroundPollMilliseconds int = 1000

@minValue(1)
@description('Storage__RetentionDays: days a stored response is kept.')
param storageRetentionDays int = 30

@minValue(0)
@description('Storage__MaxRetries: retries of a storage call (408, 429, 5xx, network errors).')
param storageMaxRetries int = 3

@description('Storage__RetryDelaySeconds: first storage retry delay in seconds (a decimal, hence a string), doubling after.')
param storageRetryDelaySeconds string = '0.2'

@minValue(1)
@description('Storage__NetworkTimeoutSeconds: time one storage attempt may take.')
param storageNetworkTimeoutSeconds int = 10


// ---------------------------------------------------------------------------------------------
// Flex Consumption scale settings
// ---------------------------------------------------------------------------------------------

@allowed([
  512
  2048
  4096
])
@description('Instance memory in MB.')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
@description('Maximum number of instances the app scales out to.')
param maximumInstanceCount int = 100

@minValue(0)
@description('Always-ready instances of the http group (billed while idle). 0: scale to zero, no alwaysReady entry.')
param alwaysReadyInstanceCount int = 0

@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance. The platform default is 16 at 2048 MB; an SSE proxy mostly waits on the upstream, so more fits.')
param httpPerInstanceConcurrency int = 32

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var responsesTableName = 'responses'
var gatewayClientKeySecretName = 'gateway-client-key-default'
var gatewayCompactionKeySecretName = 'gateway-compaction-key'
var upstreamApiKeySecretName = 'upstream-default-api-key'
var grantOpenAiRole = upstreamAuth == 'managed-identity' && !empty(azureOpenAiResourceName)

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

// The app's user-assigned identity: host storage, deployment container, Key Vault references, table access, upstream tokens.
module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
    tableName: responsesTableName
    backgroundQueueName: backgroundQueueName
  }
}

module keyVault './app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    gatewayClientKeySecretName: gatewayClientKeySecretName
    gatewayClientKey: gatewayClientKey
    gatewayCompactionKeySecretName: gatewayCompactionKeySecretName
    gatewayCompactionKey: gatewayCompactionKey
    upstreamApiKeySecretName: upstreamApiKeySecretName
    upstreamApiKey: upstreamApiKey
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module openAiRbac './app/openai-rbac.bicep' = if (grantOpenAiRole) {
  name: 'openai-rbac'
  scope: resourceGroup(!empty(azureOpenAiResourceGroupName) ? azureOpenAiResourceGroupName : rg.name)
  params: {
    accountName: azureOpenAiResourceName
    principalId: identity.outputs.principalId
  }
}

// The configuration contract of the gateway (options classes in src/ResponsesGateway.Core/Options).
// Setting names are literal on purpose: tests/ResponsesGateway.Infra.Tests checks them against the code,
// local.settings.sample.json and the README. Secrets are Key Vault references resolved with the app identity.
var gatewaySettings = {
  Gateway__ApiKeys__default: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.gatewayClientKeySecretUri})'
  Gateway__ApiKeyHashes__hashed: gatewayClientKeyHash
  Gateway__MaxConcurrentRequestsPerKey: string(gatewayMaxConcurrentRequestsPerKey)
  Gateway__RequestsPerMinutePerKey: string(gatewayRequestsPerMinutePerKey)
  Gateway__MaxRequestBodyBytes: string(gatewayMaxRequestBodyBytes)
  Gateway__KeepAliveSeconds: string(gatewayKeepAliveSeconds)
  Gateway__UpstreamConnectTimeoutSeconds: string(gatewayUpstreamConnectTimeoutSeconds)
  Gateway__UpstreamFirstByteTimeoutSeconds: string(gatewayUpstreamFirstByteTimeoutSeconds)
  Gateway__UpstreamIdleTimeoutSeconds: string(gatewayUpstreamIdleTimeoutSeconds)
  Gateway__RequestTimeoutSeconds: string(gatewayRequestTimeoutSeconds)
  Gateway__UpstreamMaxRetries: string(gatewayUpstreamMaxRetries)
  Gateway__UpstreamRetryDelaySeconds: gatewayUpstreamRetryDelaySeconds
  Gateway__UpstreamMaxRetryDelaySeconds: string(gatewayUpstreamMaxRetryDelaySeconds)
  Gateway__UpstreamMaxEventBytes: string(gatewayUpstreamMaxEventBytes)
  Gateway__ChainCacheMegabytes: string(gatewayChainCacheMegabytes)
  Gateway__ShutdownDrainSeconds: string(gatewayShutdownDrainSeconds)
  Gateway__CompactionKey: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.gatewayCompactionKeySecretUri})'
  Gateway__CompactionPrompt: gatewayCompactionPrompt
  Gateway__MaxChainBytes: string(gatewayMaxChainBytes)

  Upstreams__default__Kind: upstreamKind
  Upstreams__default__BaseUrl: upstreamBaseUrl
  Upstreams__default__ApiKey: empty(upstreamApiKey) ? '' : '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.upstreamApiKeySecretUri})'
  Upstreams__default__ApiKeyHeader: upstreamApiKeyHeader
  Upstreams__default__Auth: upstreamAuth
  Upstreams__default__ManagedIdentityClientId: identity.outputs.clientId
  Upstreams__default__TokenScope: upstreamTokenScope
  Upstreams__default__Models: upstreamModels
  Upstreams__default__ModelMap: upstreamModelMap
  Upstreams__default__Fallback: upstreamFallback
  Upstreams__default__PassErrorMessages: string(upstreamPassErrorMessages)
  Upstreams__default__ChatSystemRole: upstreamChatSystemRole
  Upstreams__default__ChatMaxTokensField: upstreamChatMaxTokensField
  Upstreams__default__ChatReasoningField: upstreamChatReasoningField
  Upstreams__default__ChatReasoningEffort: upstreamChatReasoningEffort
  Upstreams__default__ChatJsonSchema: string(upstreamChatJsonSchema)
  Upstreams__default__ChatParallelToolCalls: string(upstreamChatParallelToolCalls)
  Upstreams__default__ChatSendReasoningContent: string(upstreamChatSendReasoningContent)
  Upstreams__default__ChatThinkTags: string(upstreamChatThinkTags)
  Upstreams__default__ChatHostedTools: upstreamChatHostedTools

  Storage__TableEndpoint: storage.outputs.tableEndpoint
  Storage__ManagedIdentityClientId: identity.outputs.clientId
  Storage__TableName: responsesTableName
  Storage__RetentionDays: string(storageRetentionDays)
  Storage__MaxRetries: string(storageMaxRetries)
  Storage__RetryDelaySeconds: storageRetryDelaySeconds
  Storage__NetworkTimeoutSeconds: string(storageNetworkTimeoutSeconds)

  // Background responses: the queue (storage account above, managed identity) and the runner's batching and lease.
  // Background__Runner, __MaxConcurrentRuns and __MaxDequeueCount are the standalone server's: on Functions the queue
  // trigger runs the queue (host.json extensions.queues).
  Background__QueueName: backgroundQueueName
  Background__QueueEndpoint: storage.outputs.queueServiceEndpoint
  Background__EventBatchSize: string(backgroundEventBatchSize)
  Background__EventBatchMilliseconds: string(backgroundEventBatchMilliseconds)
  Background__LeaseSeconds: string(backgroundLeaseSeconds)
  Background__PollMilliseconds: string(backgroundPollMilliseconds)
  // Storage__SweepIntervalMinutes is not set: only the standalone server reads it; the Functions app sweeps
  // with an hourly timer trigger (src/ResponsesGateway.Functions/RetentionFunction.cs).

  // Traces and metrics (docs/observability.md): Application Insights from APPLICATIONINSIGHTS_CONNECTION_STRING in
  // app/api.bicep, and an OTLP collector as well when this is set (empty: not used).
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    runtimeName: 'dotnet-isolated'
    runtimeVersion: '10.0'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    appSettings: gatewaySettings
  }
  // Key Vault references and identity-based storage need the role assignments first
  // (RBAC can still take minutes to propagate; a restart re-resolves Key Vault references).
  dependsOn: [
    rbac
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd writes them to .azure/<env>/.env)
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_ENDPOINT_URL string = api.outputs.uri
output GATEWAY_BASE_URL string = '${api.outputs.uri}/v1'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output GATEWAY_CLIENT_KEY_SECRET_NAME string = gatewayClientKeySecretName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
