// Storage account for the Functions host (AzureWebJobsStorage), the deployment package and the gateway's
// `responses` table. Shared key access is disabled: everything authenticates with Entra ID.
param name string
param location string = resourceGroup().location
param tags object = {}
param deploymentContainerName string
param tableName string = 'responses'
@description('The queue of background responses (Background__QueueName); its poison queue is <name>-poison.')
param backgroundQueueName string = 'responses-background'

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  // Background responses: the run queue, and the poison queue where the Functions host (or the standalone consumer)
  // puts a message that failed too often (its run then ends failed). Created here so the app's identity needs no
  // right to create queues at run time.
  resource queueServices 'queueServices' = {
    name: 'default'

    resource backgroundQueue 'queues' = {
      name: backgroundQueueName
    }

    resource backgroundPoisonQueue 'queues' = {
      name: '${backgroundQueueName}-poison'
    }
  }

  resource tableServices 'tableServices' = {
    name: 'default'

    resource responsesTable 'tables' = {
      name: tableName
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
// Without the trailing slash of primaryEndpoints.table: the gateway appends /<table> itself.
output tableEndpoint string = 'https://${storage.name}.table.${environment().suffixes.storage}'
output tableName string = tableName
output backgroundQueueName string = backgroundQueueName
// Without the trailing slash, as the table endpoint: the gateway appends /<queue> itself.
output queueServiceEndpoint string = 'https://${storage.name}.queue.${environment().suffixes.storage}'
