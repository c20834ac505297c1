using System.Xml.Linq;
using HarborPortal.Data;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Keys;

/// <summary>
/// Data Protection's key store over <see cref="DataProtectionKey"/> rows. Synchronous because <see cref="IXmlRepository"/>
/// is; Data Protection calls it rarely (start, key creation, a refresh about once a day).
/// </summary>
public sealed class DatabaseXmlRepository(IDbContextFactory<PortalDbContext> contexts) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var db = contexts.CreateDbContext();
        return db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList()
            .Select(xml => XElement.Parse(xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var db = contexts.CreateDbContext();
        db.Set<DataProtectionKey>().Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}
