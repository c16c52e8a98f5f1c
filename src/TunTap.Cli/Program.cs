using TunTap.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
