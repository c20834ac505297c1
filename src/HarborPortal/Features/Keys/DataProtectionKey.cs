using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Keys;

/// <summary>
/// One Data Protection key as ASP.NET Core writes it (an XML element), kept in the database on PostgreSQL so that every
/// instance protects and reads cookies, antiforgery tokens and connection secrets with the same keys.
/// </summary>
public sealed class DataProtectionKey
{
    public long Id { get; set; }

    /// <summary>The name Data Protection gives the element ("key-{guid}").</summary>
    public string? FriendlyName { get; set; }

    public string Xml { get; set; } = "";
}

public sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("DataProtectionKeys");
        builder.Property(k => k.FriendlyName).HasMaxLength(256);
    }
}
