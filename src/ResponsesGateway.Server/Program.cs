using ResponsesGateway.Server;

var app = GatewayApp.Build(args);
app.Run();
