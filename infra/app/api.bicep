// Flex Consumption plan + function app (dotnet-isolated 10.0) + its app settings.
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}

@description('azd service name; azd finds the app to deploy to by the azd-service-name tag.')
param serviceName string = 'api'

param identityId string
param identityClientId string
param storageAccountName string
param deploymentStorageContainerName string
param applicationInsightsName string

param runtimeName string = 'dotnet-isolated'
param runtimeVersion string = '10.0'

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@minValue(0)
param alwaysReadyInstanceCount int = 0

@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('The application\'s own settings (Gateway__*, Upstreams__*, Storage__*).')
param appSettings object = {}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// No alwaysReady entry at all when the count is 0 (scale to zero).
var alwaysReady = alwaysReadyInstanceCount > 0 ? { alwaysReady: [ { name: 'http', instanceCount: alwaysReadyInstanceCount } ] } : {}
var scaleAndConcurrency = union({
  instanceMemoryMB: instanceMemoryMB
  maximumInstanceCount: maximumInstanceCount
  triggers: {
    http: {
      perInstanceConcurrency: httpPerInstanceConcurrency
    }
  }
}, alwaysReady)

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: scaleAndConcurrency
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
  }
}

// Platform settings. Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE and the content-share settings, so none of them appear here.
var platformSettings = {
  // Host storage with the user-assigned identity (the account has shared key access disabled).
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Application Insights with Entra ID ingestion (local auth is disabled on the component): the host's telemetry, and
  // the worker's OpenTelemetry traces and metrics (host.json telemetryMode OpenTelemetry; docs/observability.md).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // DefaultAzureCredential in the worker picks the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
}

resource siteAppSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, platformSettings)
}

output name string = functionApp.name
output id string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
output uri string = 'https://${functionApp.properties.defaultHostName}'
