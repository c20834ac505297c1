namespace HarborPortal.BrowserTests;
