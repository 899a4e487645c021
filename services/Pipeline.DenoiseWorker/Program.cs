// The DenoiseWorker service host; its consumers arrive with the pipeline issue.
Console.WriteLine("Pipeline.DenoiseWorker: not implemented yet (see README, issue 7).");
return 0;
