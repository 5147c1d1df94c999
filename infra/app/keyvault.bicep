// Key Vault in RBAC mode holding the gateway's secrets. The function app reads them through
// Key Vault references (@Microsoft.KeyVault(SecretUri=...)) with its user-assigned identity.
param name string
param location string = resourceGroup().location
param tags object = {}

param gatewayClientKeySecretName string
@secure()
param gatewayClientKey string

param gatewayCompactionKeySecretName string
@secure()
param gatewayCompactionKey string

param upstreamApiKeySecretName string
@secure()
@description('Empty: no secret is written (e.g. upstream auth with a managed identity).')
param upstreamApiKey string = ''

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource gatewayClientKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: gatewayClientKeySecretName
  properties: {
    value: gatewayClientKey
    contentType: 'text/plain'
  }
}

resource gatewayCompactionKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: gatewayCompactionKeySecretName
  properties: {
    value: gatewayCompactionKey
    contentType: 'text/plain'
  }
}

resource upstreamApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(upstreamApiKey)) {
  parent: vault
  name: upstreamApiKeySecretName
  properties: {
    value: upstreamApiKey
    contentType: 'text/plain'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
// Versionless secret URIs, so Key Vault references pick up rotated values.
output gatewayClientKeySecretUri string = '${vault.properties.vaultUri}secrets/${gatewayClientKeySecret.name}'
output gatewayCompactionKeySecretUri string = '${vault.properties.vaultUri}secrets/${gatewayCompactionKeySecret.name}'
output upstreamApiKeySecretUri string = '${vault.properties.vaultUri}secrets/${upstreamApiKeySecretName}'
